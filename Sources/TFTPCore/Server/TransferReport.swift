import Logging
import NIOCore

/// What is known of a transfer when it ends: the one log line per transfer and its metrics.
/// The client's address becomes text here, once per transfer, and only when the line is
/// written at the logger's level.
struct TransferReport: LogLine {
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

    /// The transfer's line at its level. With the daemon's ``LogWriter`` behind `logger`, the
    /// line's fields are made on the writer's thread: the engine thread only queues the report.
    func log(to logger: Logger) {
        let level = level
        guard logger.logLevel <= level else { return }
        if let handler = logger.handler as? LineLogHandler, let writer = handler.writer {
            return writer.later(handler, self)
        }
        logger.log(level: level, "transfer", metadata: metadata)
    }

    var message: String { "transfer" }
    var source: String { "TFTPCore" }

    /// ``fields`` as the `text` layout writes them, made straight into the bytes: one line
    /// per transfer, so no field becomes a `String` on the way but the duration (Swift's
    /// shortest form of a `Double`, which operators' scripts have always read) and the rare
    /// ones (an error, options). The same text as ``fields`` gives, to the byte (tested).
    func appendTextFields(to out: inout [UInt8]) {
        out.appendFieldName("bytes")
        out.appendDecimal(statistics.bytesAcknowledged)
        out.appendFieldName("client")
        client.appendDisplay(to: &out)
        out.appendField("duration_ms", durationText)
        if let error = errorText { out.appendField("error", error) }
        out.appendFieldName("file")
        request.appendPrintableFilename(to: &out)
        out.appendField("mode", request.mode.rawValue)
        if !request.options.isEmpty { out.appendField("options", Self.text(of: options.acknowledged)) }
        out.appendField("outcome", label)
        if !request.options.isEmpty { out.appendField("requested", Self.text(of: request.options)) }
        out.appendFieldName("retransmits")
        out.appendDecimal(statistics.retransmits)
    }

    /// The line's fields, in name order.
    var fields: [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(10)
        fields.append(("bytes", String(statistics.bytesAcknowledged)))
        fields.append(("client", client.display))
        fields.append(("duration_ms", durationText))
        if let error = errorText { fields.append(("error", error)) }
        fields.append(("file", request.printableFilename))
        fields.append(("mode", request.mode.rawValue))
        if !request.options.isEmpty { fields.append(("options", Self.text(of: options.acknowledged))) }
        fields.append(("outcome", label))
        if !request.options.isEmpty { fields.append(("requested", Self.text(of: request.options))) }
        fields.append(("retransmits", String(statistics.retransmits)))
        return fields
    }

    /// The line's fields as swift-log metadata.
    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (key, value) in fields { metadata[key] = .string(value) }
        return metadata
    }

    /// The duration in milliseconds, in Swift's shortest form of a `Double`.
    var durationText: String { "\(Double(duration.nanoseconds) / 1_000_000)" }

    /// Options as a log field's value: `name=value` pairs joined by commas.
    static func text(of options: [TransferOption]) -> String {
        TransferOption.text(options, separator: ",")
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
