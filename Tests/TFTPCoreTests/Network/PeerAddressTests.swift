import NIOCore
import Testing

@testable import TFTPCore

@Suite struct PeerAddressTests {
    private func address(_ ip: String, _ port: Int) throws -> PeerAddress {
        try #require(PeerAddress(try SocketAddress(ipAddress: ip, port: port)))
    }

    @Test func equalityIsAddressAndPort() throws {
        #expect(try address("192.0.2.7", 69) == address("192.0.2.7", 69))
        #expect(try address("192.0.2.7", 69) != address("192.0.2.7", 70))
        #expect(try address("192.0.2.7", 69) != address("192.0.2.8", 69))
        #expect(try address("2001:db8::7", 69) != address("2001:db8::8", 69))
    }

    /// The per-client limit counts an IPv4 client once, whether it reached an IPv4 or a
    /// dual-stack listener.
    /// The proxy's sockets are bound through an address made from DHCP's IPv4 form.
    @Test func fromAnIPv4AddressAndPort() throws {
        let made = PeerAddress(IPv4Address("192.0.2.1")!, port: 67)
        #expect(try made == address("192.0.2.1", 67))
        #expect(made.display == "192.0.2.1:67")
        #expect(PeerAddress(.broadcast, port: 68).display == "255.255.255.255:68")
    }

    @Test func hostIgnoresThePortAndTheIPv4Mapping() throws {
        #expect(try address("192.0.2.7", 1000).host == address("192.0.2.7", 2000).host)
        #expect(try address("::ffff:192.0.2.7", 1000).host == address("192.0.2.7", 1).host)
        #expect(try address("2001:db8::7", 1000).host == address("2001:db8::7", 5).host)
        #expect(try address("2001:db8::7", 1000).host != address("2001:db8::8", 5).host)
    }

    @Test func textForms() throws {
        #expect(try address("192.0.2.7", 1234).display == "192.0.2.7:1234")
        #expect(try address("2001:db8::7", 1234).display == "[2001:db8::7]:1234")
        #expect(try address("::ffff:192.0.2.7", 69).display == "[::ffff:192.0.2.7]:69")
    }

    @Test func familiesAndMapping() throws {
        #expect(try address("::ffff:192.0.2.7", 1).isMappedIPv4)
        #expect(try !address("::ffff:192.0.2.7", 1).isNativeIPv6)
        #expect(try address("2001:db8::7", 1).isNativeIPv6)
        #expect(try !address("192.0.2.7", 1).isIPv6)
        #expect(try address("0.0.0.0", 0).isWildcard)
        #expect(try address("::", 0).isWildcard)
    }

    /// Nothing is ever sent to a source that cannot be a client: port 0, broadcast,
    /// multicast (IPv4, mapped, IPv6).
    @Test func acceptableClients() throws {
        #expect(try address("192.0.2.7", 1000).isAcceptableClient)
        #expect(try address("2001:db8::7", 1000).isAcceptableClient)
        #expect(try !address("192.0.2.7", 0).isAcceptableClient)
        #expect(try !address("255.255.255.255", 1000).isAcceptableClient)
        #expect(try !address("224.0.0.1", 1000).isAcceptableClient)
        #expect(try !address("239.255.255.250", 1000).isAcceptableClient)
        #expect(try !address("::ffff:224.0.0.1", 1000).isAcceptableClient)
        #expect(try !address("ff02::1", 1000).isAcceptableClient)
    }

    /// The sockaddr form and NIO's form give back the same address.
    @Test(arguments: [("192.0.2.7", 69), ("2001:db8::7", 6969), ("::ffff:192.0.2.7", 1)])
    func roundTrips(_ ip: String, _ port: Int) throws {
        let original = try address(ip, port)
        let again = original.withSocketAddress { PeerAddress(UnsafeRawPointer($0), length: $1) }
        #expect(again == original)
        #expect(original.socketAddress.flatMap(PeerAddress.init) == original)
        #expect(original.with(port: 7).port == 7)
    }
}
