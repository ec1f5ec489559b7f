/// The error codes of RFC 1350 §5 plus 8 from RFC 2347 (option negotiation refused).
///
/// Unknown codes from a peer are kept as they came, so nothing traps on a value.
public struct TFTPErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 0: not defined, see the message.
    public static let notDefined = Self(rawValue: 0)
    /// 1: file not found.
    public static let fileNotFound = Self(rawValue: 1)
    /// 2: access violation.
    public static let accessViolation = Self(rawValue: 2)
    /// 3: disk full or allocation exceeded.
    public static let diskFull = Self(rawValue: 3)
    /// 4: illegal TFTP operation.
    public static let illegalOperation = Self(rawValue: 4)
    /// 5: unknown transfer ID.
    public static let unknownTransferID = Self(rawValue: 5)
    /// 6: file already exists.
    public static let fileExists = Self(rawValue: 6)
    /// 7: no such user.
    public static let noSuchUser = Self(rawValue: 7)
    /// 8: the transfer is ended because of option negotiation (RFC 2347 §2).
    public static let optionRefused = Self(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 0: "not defined"
        case 1: "file not found"
        case 2: "access violation"
        case 3: "disk full or allocation exceeded"
        case 4: "illegal TFTP operation"
        case 5: "unknown transfer ID"
        case 6: "file already exists"
        case 7: "no such user"
        case 8: "option negotiation refused"
        default: "error \(rawValue)"
        }
    }
}
