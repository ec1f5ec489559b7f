/// The two ports a proxyDHCP server answers on (PXE 2.1; docs/proxy-dhcp.md).
public enum ProxyPort: UInt16, Sendable {
    /// Port 67, where clients broadcast DISCOVER and REQUEST; the proxy answers DISCOVER
    /// with an offer that carries no address, and REQUEST only when it names the proxy.
    case dhcp = 67
    /// Port 4011, the PXE boot service: a client that holds an address (from the network's
    /// DHCP server) asks here, unicast, for the boot file the proxy's offer did not spell out.
    case bootService = 4011
}
