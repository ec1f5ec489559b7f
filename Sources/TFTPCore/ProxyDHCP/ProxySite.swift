/// What the proxy tells clients on one interface about where to boot from: the interface's
/// IPv4 address (server identifier, next server, TFTP server) and the listener reachable at
/// that address whose URLs it hands out: an HTTP one, or with `--proxy-https` an HTTPS one.
public struct ProxySite: Hashable, Sendable {
    public var address: IPv4Address
    public var httpPort: UInt16?
    /// An HTTPS listener's port: URLs are `https://` then.
    public var httpsPort: UInt16?

    public init(address: IPv4Address, httpPort: UInt16?) {
        self.address = address
        self.httpPort = httpPort
    }

    public init(address: IPv4Address, httpsPort: UInt16) {
        self.address = address
        self.httpsPort = httpsPort
    }

    /// Whether a listener is there to hand out URLs of.
    public var hasListener: Bool { httpPort != nil || httpsPort != nil }

    /// `http://192.0.2.1/path` or `https://192.0.2.1/path` (the port only when not the
    /// scheme's own), or nil without a listener.
    public func url(path: String) -> String? {
        let name = path.drop { $0 == "/" }
        if let httpsPort {
            return "https://\(address)\(httpsPort == 443 ? "" : ":\(httpsPort)")/" + name
        }
        guard let httpPort else { return nil }
        return "http://\(address)\(httpPort == 80 ? "" : ":\(httpPort)")/" + name
    }
}
