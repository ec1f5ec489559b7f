import CoreMetrics

/// The origin's and the cache's counters (docs/operations.md, "Metrics"): requests to the
/// origin by ``Result``, cache hits and misses, bytes fetched and held, evictions, and files
/// served stale while the origin did not answer.
public final class OriginMetrics: Sendable {
    /// How a request to the origin ended.
    public enum Result: String, CaseIterable, Sendable {
        /// A file came (200).
        case fetched
        /// The cached copy is still the origin's (304).
        case notModified = "not-modified"
        /// The origin has no such file (404, 410).
        case notFound = "not-found"
        /// The origin could not be asked, failed, or answered with an error.
        case failed
        /// What came does not match the manifest.
        case failedVerification = "failed-verification"
    }

    private let requests: [Result: Counter]
    private let hits = Counter(label: "tftpd_origin_cache_hits_total")
    private let misses = Counter(label: "tftpd_origin_cache_misses_total")
    private let fetchedBytes = Counter(label: "tftpd_origin_fetched_bytes_total")
    private let heldBytes = Gauge(label: "tftpd_origin_cache_bytes")
    private let evictions = Counter(label: "tftpd_origin_cache_evictions_total")
    private let staleServes = Counter(label: "tftpd_origin_stale_serves_total")

    public init() {
        var requests: [Result: Counter] = [:]
        for result in Result.allCases {
            requests[result] = Counter(label: "tftpd_origin_requests_total", dimensions: [("result", result.rawValue)])
        }
        self.requests = requests
    }

    func request(_ result: Result) { requests[result]?.increment() }
    func hit() { hits.increment() }
    func miss() { misses.increment() }
    func fetched(_ bytes: Int) { fetchedBytes.increment(by: bytes) }
    func held(_ bytes: Int64) { heldBytes.record(bytes) }
    func evicted() { evictions.increment() }
    func servedStale() { staleServes.increment() }
}
