import NIOCore

/// One TFTP packet, as RFC 1350 §5 and RFC 2347 §2 define the six opcodes.
///
/// Every datagram from the network becomes a `Packet` or a ``PacketDecodingError``
/// through ``Packet/decode(_:)``; nothing else parses peer bytes.
public enum Packet: Equatable, Sendable {
    /// RRQ (opcode 1): a read request.
    case readRequest(Request)
    /// WRQ (opcode 2): a write request. A read-only server refuses it with ERROR 2.
    case writeRequest(Request)
    /// DATA (opcode 3): a block of the file. `payload` is a slice of the datagram.
    case data(block: UInt16, payload: ByteBuffer)
    /// ACK (opcode 4).
    case ack(block: UInt16)
    /// ERROR (opcode 5). Never acknowledged, never answered (docs/protocol.md, "Who gets an answer"; CVE-2024-2169).
    case error(code: TFTPErrorCode, message: String)
    /// OACK (opcode 6), RFC 2347: the options the server accepted, in order.
    case optionAcknowledgement([TransferOption])

    /// The wire opcode.
    public var opcode: Opcode {
        switch self {
        case .readRequest: .readRequest
        case .writeRequest: .writeRequest
        case .data: .data
        case .ack: .ack
        case .error: .error
        case .optionAcknowledgement: .optionAcknowledgement
        }
    }
}

/// The wire opcodes of RFC 1350 §5 and RFC 2347 §2.
public enum Opcode: UInt16, Sendable {
    case readRequest = 1
    case writeRequest = 2
    case data = 3
    case ack = 4
    case error = 5
    case optionAcknowledgement = 6
}

/// An RRQ or WRQ: file name bytes (not necessarily UTF-8), transfer mode and options.
public struct Request: Equatable, Sendable {
    /// The file name exactly as sent, without its NUL terminator.
    public var filename: [UInt8]
    public var mode: TransferMode
    /// Options in the order the client sent them (RFC 2347); names keep the client's case.
    public var options: [TransferOption]

    public init(filename: [UInt8], mode: TransferMode, options: [TransferOption] = []) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }

    /// Whether every byte of the name is printable ASCII (then it is its own printable form).
    private var isPrintableASCII: Bool { filename.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }

    /// Appends ``printableFilename``'s UTF-8: the name's own bytes when they are printable
    /// ASCII throughout (the usual name), without making a `String`.
    func appendPrintableFilename(to out: inout [UInt8]) {
        if isPrintableASCII {
            out.append(contentsOf: filename)
        } else {
            out.appendUTF8(printableFilename)
        }
    }

    /// The file name for logs: lossy UTF-8, control characters escaped.
    public var printableFilename: String {
        // The usual name is printable ASCII throughout: as it is (one line per transfer).
        if isPrintableASCII { return String(decoding: filename, as: UTF8.self) }
        var out = ""
        for scalar in String(decoding: filename, as: UTF8.self).unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The transfer modes of RFC 1350 §1. "mail" is obsolete and refused.
public enum TransferMode: String, Sendable {
    case netascii
    case octet
    case mail
}

/// One option name/value pair (RFC 2347). The name keeps the case the client used;
/// comparisons go through ``TransferOption/key``.
public struct TransferOption: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The case-folded name used for comparison (RFC 2347: names are case-insensitive).
    public var key: String { name.lowercased() }

    /// Options as `name=value` pairs joined by `separator`, for people: a log line's field
    /// (`,`: a field's value has no spaces) or the status page (` `).
    static func text(_ options: [TransferOption], separator: String) -> String {
        options.map { "\($0.name)=\($0.value)" }.joined(separator: separator)
    }
}
