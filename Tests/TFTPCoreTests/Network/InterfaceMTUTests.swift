import NIOCore
import Testing

@testable import TFTPCore

@Suite struct InterfaceMTUTests {
    /// A mapped IPv4 client of a dual-stack socket is sent IPv4 packets.
    @Test func onlyNativeIPv6ClientsCarryIPv6Headers() throws {
        let v6 = try #require(PeerAddress(try SocketAddress(ipAddress: "2001:db8::7", port: 2000)))
        let mapped = try #require(PeerAddress(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 2000)))
        #expect(v6.isNativeIPv6)
        #expect(!mapped.isNativeIPv6)
    }

    @Test func loopbackHasAnMTU() throws {
        let mtu = InterfaceMTU.forListener(try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        #expect((mtu ?? 0) >= 1280)
    }

    /// Every address of 127.0.0.0/8 is loopback's (a test lab's second listen address),
    /// though only 127.0.0.1 is listed on the interface.
    @Test func anyAddressOf127IsLoopbacks() throws {
        let first = InterfaceMTU.forListener(try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        let other = InterfaceMTU.forListener(try SocketAddress(ipAddress: "127.0.0.2", port: 0))
        #expect(first != nil)
        #expect(other == first)
    }
}
