/// Why an interface named by `--proxy-dhcp` cannot be served: it does not exist, has no
/// IPv4 address, or one of its two sockets cannot be opened or bound.
public struct ProxyInterfaceError: Error, CustomStringConvertible, Sendable {
    public var interface: String
    public var reason: String
    public var description: String { "--proxy-dhcp \(interface): \(reason)" }
}
