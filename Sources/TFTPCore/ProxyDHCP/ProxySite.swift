/// What the proxy tells clients on one interface about where to boot from: the interface's
/// IPv4 address (server identifier, next server, TFTP server) and the port of an HTTP
/// listener reachable at that address, if any.
public struct ProxySite: Hashable, Sendable {
    public var address: IPv4Address
    public var httpPort: UInt16?

    public init(address: IPv4Address, httpPort: UInt16?) {
        self.address = address
        self.httpPort = httpPort
    }

    /// `http://192.0.2.1/path` (the port only when not 80), or nil without a listener.
    public func httpURL(path: String) -> String? {
        guard let httpPort else { return nil }
        let port = httpPort == 80 ? "" : ":\(httpPort)"
        return "http://\(address)\(port)/" + path.drop { $0 == "/" }
    }
}
