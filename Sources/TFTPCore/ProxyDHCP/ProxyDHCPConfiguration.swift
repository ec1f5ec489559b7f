/// The proxyDHCP service's settings: the interfaces it answers on, what it tells clients,
/// and the HTTP listeners whose URLs it may hand out.
public struct ProxyDHCPConfiguration: Sendable {
    /// Interface names (`eth0`); each gets its own sockets, bound to it alone.
    public var interfaces: [String]
    public var plan: ProxyBootPlan
    /// The `--http` addresses: an interface whose address one of them covers (its own, or
    /// a wildcard) gives HTTP boot clients and iPXE URLs on it.
    public var httpListen: [ListenAddress]

    public init(interfaces: [String], plan: ProxyBootPlan, httpListen: [ListenAddress]) {
        self.interfaces = interfaces
        self.plan = plan
        self.httpListen = httpListen
    }

    /// The site clients on an interface with this address are told about.
    public func site(for address: IPv4Address) -> ProxySite {
        let listener =
            httpListen.first { IPv4Address($0.host) == address }
            ?? httpListen.first { $0.host == "0.0.0.0" || $0.host == "::" }
        return ProxySite(address: address, httpPort: listener.map { UInt16($0.port) })
    }
}
