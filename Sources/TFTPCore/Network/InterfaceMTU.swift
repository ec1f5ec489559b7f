import Glibc
import NIOCore

/// The MTU of the interface a listener serves, for the default `--max-blksize` (the engine
/// core's rule, ``EngineCore/configuration(_:listener:client:)``, fits each block to it): a DATA
/// packet that fits the link is never fragmented (PXE ROMs and U-Boot drop
/// or mishandle IP fragments). An address bound to one interface gives that interface's
/// MTU (any address of 127.0.0.0/8 is loopback's, though only 127.0.0.1 is listed on it); a
/// wildcard address gives the smallest MTU of the interfaces that are up, leaving out
/// loopback unless it is the only one; nil when nothing can be found.
public enum InterfaceMTU {
    public static func forListener(_ address: SocketAddress) -> Int? {
        let interfaces = upInterfaces()
        if let ip = address.ipAddress, !isWildcard(address) {
            let owner =
                interfaces.first { $0.addresses.contains(ip) }
                ?? (ip.hasPrefix("127.") ? interfaces.first { $0.isLoopback } : nil)
            return owner.flatMap { mtu(of: $0.name) }
        }
        let candidates = interfaces.filter { !$0.isLoopback }
        let mtus = (candidates.isEmpty ? interfaces : candidates).compactMap { mtu(of: $0.name) }
        return mtus.min()
    }

    private static func isWildcard(_ address: SocketAddress) -> Bool {
        address.ipAddress == "0.0.0.0" || address.ipAddress == "::"
    }

    private struct Interface {
        var name: String
        var isLoopback: Bool
        var addresses: [String]
    }

    private static func upInterfaces() -> [Interface] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var byName: [String: Interface] = [:]
        var order: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, let cName = entry.pointee.ifa_name else { continue }
            let name = String(cString: cName)
            if byName[name] == nil {
                byName[name] = Interface(
                    name: name, isLoopback: flags & Int32(IFF_LOOPBACK) != 0, addresses: [])
                order.append(name)
            }
            if let sockaddr = entry.pointee.ifa_addr, let ip = numericHost(sockaddr) {
                byName[name]?.addresses.append(ip)
            }
        }
        return order.compactMap { byName[$0] }
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        // Link-local addresses come back as fe80::1%eth0; NIO prints them without the zone.
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "%").first.map(String.init)
    }

    private static func mtu(of interface: String) -> Int? {
        guard !interface.contains("/"), let file = fopen("/sys/class/net/\(interface)/mtu", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return Int(
            String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter(\.isNumber))
    }
}
