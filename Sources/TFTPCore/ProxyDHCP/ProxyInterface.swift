import Glibc

/// One interface the proxy answers on: its name, its IPv4 address, and its two sockets,
/// opened and bound before the privilege drop (port 67 needs root).
///
/// Port 67's socket is bound to 255.255.255.255, not to the wildcard: it receives the
/// broadcasts boot clients send (DISCOVER, REQUEST), and never a unicast datagram meant for
/// a DHCP server on the same host (a renewal), which a wildcard socket sharing the port
/// could take from it. `SO_REUSEADDR` lets it share port 67 with such a server (dnsmasq
/// sets it too); `SO_BINDTODEVICE` keeps both sockets to the named interface.
struct ProxyInterface {
    var name: String
    var address: IPv4Address
    /// Bound to 255.255.255.255:67 on the interface.
    var dhcpSocket: Int32
    /// Bound to the interface's address, port 4011.
    var bootServiceSocket: Int32

    /// The first IPv4 address of the interface `name`, or nil when it has none.
    static func address(of name: String) -> IPv4Address? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let socketAddress = entry.pointee.ifa_addr, Int32(socketAddress.pointee.sa_family) == AF_INET,
                String(cString: entry.pointee.ifa_name) == name
            else { continue }
            let v4 = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in.self)
            return IPv4Address(value: UInt32(bigEndian: v4.sin_addr.s_addr))
        }
        return nil
    }

    /// Opens and binds both sockets on `name`; ports as given (67 and 4011 but in tests).
    static func open(_ name: String, dhcpPort: UInt16 = 67, bootServicePort: UInt16 = 4011) throws(ProxyInterfaceError)
        -> ProxyInterface
    {
        guard let address = address(of: name) else {
            throw ProxyInterfaceError(interface: name, reason: "no such interface, or it has no IPv4 address")
        }
        var opened: [Int32] = []
        do {
            let dhcp = try socket(on: name, bound: .broadcast, port: dhcpPort, opened: &opened)
            let boot = try socket(on: name, bound: address, port: bootServicePort, opened: &opened)
            return ProxyInterface(name: name, address: address, dhcpSocket: dhcp, bootServiceSocket: boot)
        } catch {
            for descriptor in opened { close(descriptor) }
            throw ProxyInterfaceError(interface: name, reason: error.description)
        }
    }

    private static func socket(
        on name: String, bound address: IPv4Address, port: UInt16, opened: inout [Int32]
    ) throws(UDPSocket.Failure) -> Int32 {
        let descriptor = try UDPSocket.open(family: sa_family_t(AF_INET))
        opened.append(descriptor)
        try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_REUSEADDR, 1)
        try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_BROADCAST, 1)
        try UDPSocket.bindToDevice(descriptor, name)
        try UDPSocket.bind(descriptor, to: PeerAddress(address, port: port))
        return descriptor
    }
}
