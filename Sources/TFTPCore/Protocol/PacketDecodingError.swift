/// Why a datagram is not a TFTP packet. Closed: every byte sequence is either a
/// ``Packet`` or exactly one of these, and none of them traps.
public enum PacketDecodingError: Error, Equatable, Sendable {
    /// Fewer than two bytes: no opcode.
    case tooShort
    /// An opcode outside 1...6.
    case unknownOpcode(UInt16)
    /// DATA, ACK or ERROR without its 16-bit block number or code.
    case truncatedHeader(Opcode)
    /// An RRQ/WRQ whose file name has no NUL terminator.
    case unterminatedFilename
    /// An RRQ/WRQ whose mode has no NUL terminator.
    case unterminatedMode
    /// A mode other than netascii, octet or mail.
    case unknownMode(String)
    /// An RRQ/WRQ with an empty file name.
    case emptyFilename
}

extension PacketDecodingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tooShort: "datagram shorter than an opcode"
        case .unknownOpcode(let op): "unknown opcode \(op)"
        case .truncatedHeader(let op): "truncated \(op) header"
        case .unterminatedFilename: "file name not terminated"
        case .unterminatedMode: "mode not terminated"
        case .unknownMode(let mode): "unknown mode \"\(mode.prefix(16))\""
        case .emptyFilename: "empty file name"
        }
    }
}
