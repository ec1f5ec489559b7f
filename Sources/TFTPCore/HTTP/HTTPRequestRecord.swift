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
        var metadata: Logger.Metadata = [
            "client": "\(remote?.display ?? "?")",
            "method": "\(method.rawValue)",
            "target": "\(target.prefix(256))",
            "status": "\(status.code)",
            "bytes": "\(bodyBytes)",
            "duration_ms": "\(Double((NIODeadline.now() - started).nanoseconds / 10_000) / 100)",
        ]
        if let error { metadata["error"] = "\(error)" }
        if let range { metadata["range"] = "\(range.prefix(64))" }
        reports.logger.info("request", metadata: metadata)
    }
}
