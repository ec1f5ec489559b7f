import Glibc
import NIOCore

/// An IPv4 or IPv6 socket address as the kernel reports it, kept binary and compared as
/// bytes: the engine never makes text of an address on the hot path, only once per
/// transfer for its log line (``display``).
///
/// The flow label of IPv6 is not part of the identity; the scope (interface) of a
/// link-local address is.
public struct PeerAddress: Hashable, Sendable {
    /// AF_INET or AF_INET6.
    public let family: sa_family_t
    /// The port in host byte order.
    public let port: UInt16
    /// The address bytes in network order: IPv4 in the low 4 bytes of `low`, IPv6 all 16.
    private let high: UInt64
    private let low: UInt64
    private let scope: UInt32

    /// Reads a `sockaddr_in` or `sockaddr_in6`; nil for any other family or a short length.
    public init?(_ address: UnsafeRawPointer, length: socklen_t) {
        guard Int(length) >= MemoryLayout<sa_family_t>.size else { return nil }
        let family = address.loadUnaligned(as: sa_family_t.self)
        switch Int32(family) {
        case AF_INET where Int(length) >= MemoryLayout<sockaddr_in>.size:
            let v4 = address.loadUnaligned(as: sockaddr_in.self)
            self.init(
                family: family, port: UInt16(bigEndian: v4.sin_port), high: 0, low: UInt64(v4.sin_addr.s_addr), scope: 0
            )
        case AF_INET6 where Int(length) >= MemoryLayout<sockaddr_in6>.size:
            let v6 = address.loadUnaligned(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: v6.sin6_addr) {
                (
                    $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                    $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                )
            }
            self.init(
                family: family, port: UInt16(bigEndian: v6.sin6_port), high: high, low: low, scope: v6.sin6_scope_id)
        default:
            return nil
        }
    }

    private init(family: sa_family_t, port: UInt16, high: UInt64, low: UInt64, scope: UInt32) {
        self.family = family
        self.port = port
        self.high = high
        self.low = low
        self.scope = scope
    }

    /// An IPv4 address and port (the proxyDHCP sockets).
    init(_ address: IPv4Address, port: UInt16) {
        // `low` holds the address as `sin_addr.s_addr` does: in network order.
        self.init(family: sa_family_t(AF_INET), port: port, high: 0, low: UInt64(address.value.bigEndian), scope: 0)
    }

    /// From NIO's address (listeners, tests); nil for a UNIX socket address.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            var raw = v4.address
            guard let made = withUnsafeBytes(of: &raw, { Self($0.baseAddress!, length: socklen_t($0.count)) }) else {
                return nil
            }
            self = made
        case .v6(let v6):
            var raw = v6.address
            guard let made = withUnsafeBytes(of: &raw, { Self($0.baseAddress!, length: socklen_t($0.count)) }) else {
                return nil
            }
            self = made
        case .unixDomainSocket:
            return nil
        }
    }

    /// The same address with another port.
    public func with(port: UInt16) -> PeerAddress {
        PeerAddress(family: family, port: port, high: high, low: low, scope: scope)
    }

    public var isIPv6: Bool { Int32(family) == AF_INET6 }

    /// An IPv4 client seen through a dual-stack IPv6 socket (`::ffff:a.b.c.d`).
    public var isMappedIPv4: Bool {
        isIPv6
            && withUnsafeBytes(of: (high, low)) { bytes in
                bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            }
    }

    /// IPv6 on the wire: an IPv6 address that is not a mapped IPv4 one (IP header of 40 bytes).
    public var isNativeIPv6: Bool { isIPv6 && !isMappedIPv4 }

    /// The IPv4 address in network order, also of a mapped address; nil for native IPv6.
    private var ipv4: UInt32? {
        if !isIPv6 { return UInt32(truncatingIfNeeded: low) }
        if isMappedIPv4 {
            return withUnsafeBytes(of: (high, low)) { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) }
        }
        return nil
    }

    /// The IPv4 address (also of an IPv4-mapped IPv6 one), for the machines registry.
    public var ipv4Address: IPv4Address? {
        ipv4.map { IPv4Address(value: UInt32(bigEndian: $0)) }
    }

    /// Whether a datagram from here can be a client's: a source port of 0, a broadcast
    /// or a multicast source cannot, and such datagrams are dropped unanswered, so nothing
    /// is reflected at them (docs/protocol.md, "Who gets an answer").
    public var isAcceptableClient: Bool {
        guard port != 0 else { return false }
        if let v4 = ipv4 {
            let ip = UInt32(bigEndian: v4)
            return ip != 0xFFFF_FFFF && ip >> 28 != 0xE
        }
        return withUnsafeBytes(of: high) { $0[0] } != 0xFF
    }

    /// The wildcard address (`0.0.0.0` or `::`) of a listener bound to every address.
    public var isWildcard: Bool { high == 0 && low == 0 }

    /// Calls `body` with this address as a `sockaddr` and its length.
    public func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        if isIPv6 {
            var v6 = sockaddr_in6()
            v6.sin6_family = family
            v6.sin6_port = port.bigEndian
            v6.sin6_scope_id = scope
            withUnsafeMutableBytes(of: &v6.sin6_addr) {
                $0.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
                $0.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            }
            return try withUnsafePointer(to: &v6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        var v4 = sockaddr_in()
        v4.sin_family = family
        v4.sin_port = port.bigEndian
        v4.sin_addr.s_addr = UInt32(truncatingIfNeeded: low)
        return try withUnsafePointer(to: &v4) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The address without the port, as text: `192.0.2.7`, `2001:db8::7`, `::ffff:192.0.2.7`.
    public var ipText: String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { text in
            text.initialize(repeating: 0)
            if isIPv6 {
                var raw = in6_addr()
                withUnsafeMutableBytes(of: &raw) {
                    $0.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
                    $0.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
                }
                _ = inet_ntop(AF_INET6, &raw, text.baseAddress, socklen_t(text.count))
            } else {
                var raw = in_addr(s_addr: UInt32(truncatingIfNeeded: low))
                _ = inet_ntop(AF_INET, &raw, text.baseAddress, socklen_t(text.count))
            }
            return String(cString: text.baseAddress!)
        }
    }

    /// `192.0.2.7:1234` or `[2001:db8::7]:1234`, for log lines.
    public var display: String {
        isIPv6 ? "[\(ipText)]:\(port)" : "\(ipText):\(port)"
    }

    /// Appends ``display``'s bytes; an IPv4 address's digits are written straight in (the
    /// transfer's log line).
    func appendDisplay(to out: inout [UInt8]) {
        guard !isIPv6 else { return out.appendUTF8(display) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: low)) { octets in
            for (index, octet) in octets.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ".")) }
                out.appendDecimal(octet)
            }
        }
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(port)
    }

    /// NIO's form, for what NIO-side code reads (MTU lookup, the listening callback).
    public var socketAddress: SocketAddress? {
        withSocketAddress { pointer, _ -> SocketAddress? in
            if isIPv6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: ipText)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                SocketAddress($0.pointee, host: ipText)
            }
        }
    }
}

extension PeerAddress: TransferAddress {
    /// The address without its port; an IPv4 client counts as the same host whether it
    /// reached an IPv4 or a dual-stack listener.
    public var host: PeerAddress {
        if let v4 = ipv4 {
            return PeerAddress(family: sa_family_t(AF_INET), port: 0, high: 0, low: UInt64(v4), scope: 0)
        }
        return with(port: 0)
    }
}

extension PeerAddress {
    /// This client as the name rules see it (``Requester``): a mapped IPv4 address as IPv4.
    public var requester: Requester {
        if let v4 = ipv4 {
            let bytes = withUnsafeBytes(of: v4) { Array($0) }
            return Requester(
                address: bytes.map(String.init).joined(separator: "."),
                hex: bytes.map { Self.hexByte($0) }.joined(), isIPv6: false)
        }
        let bytes = withUnsafeBytes(of: (high, low)) { Array($0) }
        return Requester(address: ipText, hex: bytes.map { Self.hexByte($0) }.joined(), isIPv6: true)
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
