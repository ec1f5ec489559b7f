import CoreMetrics
import NIOConcurrencyHelpers
import NIOHTTP1

/// The HTTP listener's counters: responses by status, and the body bytes they promised.
/// A status's counter is made the first time it is answered (the codes a file server sends
/// are few).
public final class HTTPMetrics: Sendable {
    private let requests = NIOLockedValueBox<[UInt: Counter]>([:])
    private let bodyBytes = Counter(label: "http_body_bytes_sent_total")

    public init() {}

    /// One HTTP response: its status and the body bytes it promised.
    func response(_ status: HTTPResponseStatus, bodyBytes count: Int64) {
        let code = status.code
        let counter = requests.withLockedValue { counters in
            if let counter = counters[code] { return counter }
            let counter = Counter(label: "http_requests_total", dimensions: [("status", String(code))])
            counters[code] = counter
            return counter
        }
        counter.increment()
        if count > 0 { bodyBytes.increment(by: count) }
    }
}
