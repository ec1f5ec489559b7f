import Logging
import NIOCore

/// What is known of a transfer when it ends: the one log line per transfer and its metrics.
/// The client's address becomes text here, once per transfer, and only when the line is
/// written at the logger's level.
struct TransferReport {
    var client: PeerAddress
    var request: Request
    var outcome: ServerTransfer.Outcome
    var options: NegotiatedOptions
    var statistics: ServerTransfer.Statistics
    var duration: TimeAmount
    /// Why the transfer's socket failed, when it did (`outcome` is then `aborted`).
    var socketError: UDPSocket.Failure?

    func record(in metrics: ServerMetrics) {
        metrics.tftp.record(
            outcome, bytes: statistics.bytesAcknowledged, retransmits: statistics.retransmits,
            nanoseconds: duration.nanoseconds)
    }

    /// The level of the line: completions and probes are news, failures a notice, a read
    /// error on our side an error.
    var level: Logger.Level {
        switch outcome {
        case .completed, .sizeProbe: .info
        case .readFailed: .error
        case .peerError, .refused, .timedOut, .unacknowledged, .superseded, .protocolViolation, .aborted: .notice
        }
    }

    func log(to logger: Logger) {
        let level = level
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "client": "\(client.display)",
            "file": "\(request.printableFilename)",
            "mode": "\(request.mode.rawValue)",
            "bytes": "\(statistics.bytesAcknowledged)",
            "duration_ms": "\(Double(duration.nanoseconds) / 1_000_000)",
            "retransmits": "\(statistics.retransmits)",
        ]
        if !request.options.isEmpty {
            metadata["requested"] = "\(request.options.map { "\($0.name)=\($0.value)" }.joined(separator: ","))"
            metadata["options"] = "\(options.acknowledged.map { "\($0.name)=\($0.value)" }.joined(separator: ","))"
        }
        metadata["outcome"] = "\(label)"
        if let error = errorText { metadata["error"] = "\(error)" }
        logger.log(level: level, "transfer", metadata: metadata)
    }

    /// The outcome's name (``ServerTransfer/Outcome/label``).
    var label: String { outcome.label.rawValue }

    /// What went wrong, when the outcome carries it.
    var errorText: String? {
        switch outcome {
        case .completed, .sizeProbe, .timedOut, .unacknowledged, .superseded: nil
        case .peerError(let code, let message): "\(code.rawValue) \(message)"
        case .refused(let code, let reason): "\(code.rawValue) \(reason)"
        case .protocolViolation(let opcode): "\(opcode)"
        case .readFailed(let error): "\(error)"
        case .aborted: socketError.map { "\($0)" }
        }
    }
}
