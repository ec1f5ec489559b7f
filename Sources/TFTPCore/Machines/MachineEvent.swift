/// One step of a machine's boot as the server saw it: a DHCP answer of the proxy, a TFTP
/// transfer's end, an HTTP request. Made from what each service reports, each with one rule
/// for its ``Verdict`` (`MachineEvent+TransferReport.swift`, `MachineEvent+ProxyReply.swift`,
/// `HTTPRequestRecord`): a firmware's size probe — a transfer the client ends right after the
/// OACK, on purpose, to learn the size (EDK2, iPXE) — looks like a failure and is the
/// expected step it is.
public struct MachineEvent: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case dhcp
        case tftp
        case http
    }

    /// How a step ended.
    public enum Verdict: String, Hashable, Sendable {
        case succeeded
        /// Not a success by its looks, but how firmware works (the size probe).
        case expected
        case failed
    }

    /// Milliseconds since 1970 (UTC).
    public var at: Int64
    public var kind: Kind
    /// What was asked: the DHCP message (`offer`, `ack`), the file, the HTTP target.
    public var subject: String
    /// How it ended: what the proxy told (`boot=ipxe.efi`), the transfer's outcome, the status.
    public var result: String
    public var verdict: Verdict

    public init(at: Int64, kind: Kind, subject: String, result: String, verdict: Verdict) {
        self.at = at
        self.kind = kind
        self.subject = subject
        self.result = result
        self.verdict = verdict
    }
}
