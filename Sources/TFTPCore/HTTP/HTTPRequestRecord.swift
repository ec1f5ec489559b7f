import Logging
import NIOCore
import NIOHTTP1

/// What is told of one HTTP request once it is answered: its access-log line, its count in
/// the metrics, and with `--machines` its step on the asking machine's timeline, whose
/// verdict is the status's (an answer below 400 written whole succeeded). Made when the
/// request is read; finished when its answer is written or failed.
struct HTTPRequestRecord {
    let method: HTTPMethod
    let target: String
    let range: String?
    /// Where the request came from (made into text only for a line that is written).
    let remote: SocketAddress?
    let started: NIODeadline
    /// With `--machines`: the hardware address the request names (iPXE's `?mac=`).
    let mac: MACAddress?

    init(_ head: HTTPRequestHead, remote: SocketAddress?, started: NIODeadline, machines: Bool) {
        method = head.method
        target = head.uri
        range = head.headers.first(name: "range")
        self.remote = remote
        self.started = started
        mac = machines ? HTTPRequestTarget.queryValue("mac", in: head.uri).flatMap(MACAddress.init) : nil
    }

    /// Where each report of the request goes.
    struct Reports {
        var logger: Logger
        var logsRequests: Bool
        var metrics: ServerMetrics
        var machines: MachineService?
        /// The client's IPv4 address, for the machines' timelines.
        var address: IPv4Address?
    }

    /// The answer went out (or `error` ended it): the line, the count, the timeline.
    func finish(status: HTTPResponseStatus, bodyBytes: Int64, error: (any Error)?, to reports: Reports) {
        reports.metrics.http.response(status, bodyBytes: bodyBytes)
        if let machines = reports.machines, let address = reports.address {
            machines.registry.record(
                MachineEvent(
                    at: machines.registry.clock(), kind: .http, subject: "\(method.rawValue) \(target.prefix(200))",
                    result: "\(status.code)", verdict: error == nil && status.code < 400 ? .succeeded : .failed),
                address: address, mac: mac)
        }
        guard reports.logsRequests else { return }
        let duration = (NIODeadline.now() - started).nanoseconds
        let errorText = error.map { "\($0)" }
        // With the daemon's log writer, the line's fields are made on its thread.
        if let handler = reports.logger.handler as? LineLogHandler, let writer = handler.writer {
            let line = Line(
                record: self, status: status.code, bodyBytes: bodyBytes, nanoseconds: duration, error: errorText)
            return writer.later(handler, line)
        }
        var metadata: Logger.Metadata = [:]
        for (key, value) in Line(
            record: self, status: status.code, bodyBytes: bodyBytes, nanoseconds: duration, error: errorText
        ).fields {
            metadata[key] = .string(value)
        }
        reports.logger.info("request", metadata: metadata)
    }

    /// The access-log line's values, taken when the answer went out.
    struct Line: LogLine {
        var level: Logger.Level { .info }
        var message: String { "request" }
        var source: String { "TFTPCore" }
        var method: String
        var target: String
        var range: String?
        var remote: SocketAddress?
        var status: UInt
        var bodyBytes: Int64
        var nanoseconds: Int64
        var error: String?

        init(record: HTTPRequestRecord, status: UInt, bodyBytes: Int64, nanoseconds: Int64, error: String?) {
            method = record.method.rawValue
            target = record.target
            range = record.range
            remote = record.remote
            self.status = status
            self.bodyBytes = bodyBytes
            self.nanoseconds = nanoseconds
            self.error = error
        }

        /// In name order.
        var fields: [(key: String, value: String)] {
            var fields: [(key: String, value: String)] = []
            fields.reserveCapacity(8)
            fields.append(("bytes", String(bodyBytes)))
            fields.append(("client", remote?.display ?? "?"))
            fields.append(("duration_ms", "\(Double(nanoseconds / 10_000) / 100)"))
            if let error { fields.append(("error", error)) }
            fields.append(("method", method))
            if let range { fields.append(("range", String(range.prefix(64)))) }
            fields.append(("status", String(status)))
            fields.append(("target", String(target.prefix(256))))
            return fields
        }
    }
}
