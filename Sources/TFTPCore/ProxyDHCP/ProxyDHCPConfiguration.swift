/// The proxyDHCP service's settings: the interfaces it answers on, what it tells clients,
/// and the HTTP or HTTPS listeners whose URLs it may hand out.
public struct ProxyDHCPConfiguration: Sendable {
    /// Interface names (`eth0`); each gets its own sockets, bound to it alone.
    public var interfaces: [String]
    public var plan: ProxyBootPlan
    /// The `--http` addresses: an interface whose address one of them covers (its own, or
    /// a wildcard) gives HTTP boot clients and iPXE URLs on it.
    public var httpListen: [ListenAddress]
    /// The `--https` addresses whose `https://` URLs are handed out instead (`--proxy-https`).
    public var httpsListen: [ListenAddress]
    /// `--machines`: each machine's boot files and script over ``plan``'s.
    public var machines: MachineService?

    public init(
        interfaces: [String], plan: ProxyBootPlan, httpListen: [ListenAddress], httpsListen: [ListenAddress] = []
    ) {
        self.interfaces = interfaces
        self.plan = plan
        self.httpListen = httpListen
        self.httpsListen = httpsListen
    }

    /// The site clients on an interface with this address are told about.
    public func site(for address: IPv4Address) -> ProxySite {
        func port(_ listeners: [ListenAddress]) -> UInt16? {
            let listener =
                listeners.first { IPv4Address($0.host) == address }
                ?? listeners.first { $0.host == "0.0.0.0" || $0.host == "::" }
            return listener.map { UInt16($0.port) }
        }
        if let secure = port(httpsListen) { return ProxySite(address: address, httpsPort: secure) }
        return ProxySite(address: address, httpPort: port(httpListen))
    }
}
