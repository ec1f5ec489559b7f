/// The daemon's metrics, one set per service, each with its own closed label types
/// (docs/operations.md, "Metrics"): TFTP (``TFTPMetrics``), HTTP (``HTTPMetrics``), the
/// proxy (``ProxyDHCPMetrics``), reloads and the root (``ConfigMetrics``). HTTPS handshake
/// failures are counted by the TLS target's own. Created once after the metrics backend is
/// bootstrapped and shared, so a transfer or a request costs a few atomic adds.
public final class ServerMetrics: Sendable {
    public let tftp = TFTPMetrics()
    public let http = HTTPMetrics()
    public let proxy = ProxyDHCPMetrics()
    public let config = ConfigMetrics()

    public init() {}
}
