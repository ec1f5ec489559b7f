/// The one name of each reason a request is refused without a transfer: the log line's
/// `reason=`, the label of `tftp_requests_rejected_total{reason}` and the status page.
public enum RefusalReason: String, CaseIterable, Sendable, CustomStringConvertible {
    case writeRequest = "write-request"
    case malformed
    case busy
    case perClientLimit = "per-client-limit"
    case shuttingDown = "shutting-down"
    case noPort = "no-port"

    /// The label as written in logs and metrics.
    public var description: String { rawValue }
}
