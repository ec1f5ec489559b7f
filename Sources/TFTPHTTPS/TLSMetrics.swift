import CoreMetrics

/// HTTPS handshakes that failed, by the reason their log line gives
/// (`http_tls_handshake_failures_total{reason}`, ``TLSHandshakeFailure``: a closed set, every
/// series made at start).
public final class TLSMetrics: Sendable {
    private let failures: [TLSHandshakeFailure: Counter]

    public init() {
        var failures: [TLSHandshakeFailure: Counter] = [:]
        for reason in TLSHandshakeFailure.allCases {
            failures[reason] = Counter(
                label: "http_tls_handshake_failures_total", dimensions: [("reason", reason.rawValue)])
        }
        self.failures = failures
    }

    func handshakeFailed(_ reason: TLSHandshakeFailure) {
        failures[reason]?.increment()
    }
}
