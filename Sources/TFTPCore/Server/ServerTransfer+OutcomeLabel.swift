extension ServerTransfer.Outcome {
    /// The outcome's one name, used by the log line (`outcome=`), the metrics
    /// (`tftp_transfers_failed_total{reason}`) and the status page.
    public var label: String {
        switch self {
        case .completed: "completed"
        case .sizeProbe: "size-probe"
        case .peerError: "client-error"
        case .refused: "refused"
        case .timedOut: "timed-out"
        case .unacknowledged: "unacknowledged"
        case .protocolViolation: "protocol-violation"
        case .readFailed: "read-failed"
        case .aborted: "aborted"
        }
    }

    /// Whether the client got what it asked for (a size probe is a success).
    public var succeeded: Bool {
        switch self {
        case .completed, .sizeProbe: true
        default: false
        }
    }
}
