import NIOCore
import Testing

@testable import TFTPCore

@Suite struct InterfaceMTUTests {
    @Test func blockSizeLeavesRoomForHeaders() throws {
        let v4 = try #require(PeerAddress(try SocketAddress(ipAddress: "192.0.2.7", port: 2000)))
        let v6 = try #require(PeerAddress(try SocketAddress(ipAddress: "2001:db8::7", port: 2000)))
        let mapped = try #require(PeerAddress(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 2000)))
        #expect(InterfaceMTU.blockSize(mtu: 1500, client: v4) == 1468)
        #expect(InterfaceMTU.blockSize(mtu: 1500, client: v6) == 1448)
        #expect(InterfaceMTU.blockSize(mtu: 1500, client: mapped) == 1468)
        #expect(InterfaceMTU.blockSize(mtu: 9000, client: v4) == 8968)
        #expect(InterfaceMTU.blockSize(mtu: 65536, client: v4) == 65464)
        #expect(InterfaceMTU.blockSize(mtu: 20, client: v4) == 8)
    }

    @Test func loopbackHasAnMTU() throws {
        let mtu = InterfaceMTU.forListener(try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        #expect((mtu ?? 0) >= 1280)
    }
}
