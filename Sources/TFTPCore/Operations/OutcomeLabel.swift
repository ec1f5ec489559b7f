/// The one name of each way a transfer ends: the log line's `outcome=`, the label of
/// `tftp_transfers_failed_total{reason}` and the status page all use these, and nothing
/// else spells them.
public enum OutcomeLabel: String, CaseIterable, Sendable, CustomStringConvertible {
    case completed
    case sizeProbe = "size-probe"
    case clientError = "client-error"
    case refused
    case timedOut = "timed-out"
    case unacknowledged
    case superseded
    case protocolViolation = "protocol-violation"
    case readFailed = "read-failed"
    case aborted

    /// The label as written in logs and metrics.
    public var description: String { rawValue }

    /// Whether the client got what it asked for (a size probe is a success).
    public var succeeded: Bool { self == .completed || self == .sizeProbe }

    /// The labels of the failure metric, known up front.
    public static let failures = allCases.filter { !$0.succeeded }
}

extension ServerTransfer.Outcome {
    /// This outcome's name.
    public var label: OutcomeLabel {
        switch self {
        case .completed: .completed
        case .sizeProbe: .sizeProbe
        case .peerError: .clientError
        case .refused: .refused
        case .timedOut: .timedOut
        case .unacknowledged: .unacknowledged
        case .superseded: .superseded
        case .protocolViolation: .protocolViolation
        case .readFailed: .readFailed
        case .aborted: .aborted
        }
    }

    /// Whether the client got what it asked for.
    public var succeeded: Bool { label.succeeded }
}
