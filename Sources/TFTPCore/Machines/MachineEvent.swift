/// One step of a machine's boot as the server saw it: a DHCP answer of the proxy, a TFTP
/// transfer's end, an HTTP request. `normal` marks what looks like a failure but is how
/// firmware works (EDK2's and iPXE's size probe: a transfer ended by the client right after
/// the OACK).
public struct MachineEvent: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case dhcp
        case tftp
        case http
    }

    /// Milliseconds since 1970 (UTC).
    public var at: Int64
    public var kind: Kind
    /// What was asked: the DHCP message (`offer`, `ack`), the file, the HTTP target.
    public var subject: String
    /// How it ended: what the proxy told (`boot=ipxe.efi`), the transfer's outcome, the status.
    public var result: String
    public var succeeded: Bool
    public var normal: Bool

    public init(at: Int64, kind: Kind, subject: String, result: String, succeeded: Bool, normal: Bool = false) {
        self.at = at
        self.kind = kind
        self.subject = subject
        self.result = result
        self.succeeded = succeeded
        self.normal = normal
    }
}
