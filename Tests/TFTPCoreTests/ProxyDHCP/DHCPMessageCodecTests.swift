import Testing

@testable import TFTPCore

/// The DHCP codec on real requests and on the edges of the format (RFC 2131 §2, RFC 2132,
/// RFC 3396).
@Suite struct DHCPMessageCodecTests {
    @Test(arguments: DHCPCaptures.all.map(\.0))
    func realRequestsDecode(name: String) throws {
        let bytes = try #require(DHCPCaptures.all.first { $0.0 == name }?.1)
        let message = try DHCPMessage.decode(bytes)
        #expect(message.operation == .request)
        #expect(message.clientHardwareAddress.count == 6)
        #expect(message.messageType != nil)
        #expect(message.yourAddress == .zero)
        // Re-encoded, every option the proxy reads comes back the same.
        let again = try DHCPMessage.decode(message.encode())
        #expect(again.transactionID == message.transactionID)
        #expect(again.clientHardwareAddress == message.clientHardwareAddress)
        #expect(again.flags == message.flags && again.clientAddress == message.clientAddress)
        for code in Set(message.options.map(\.code)) {
            #expect(again.option(code) == message.option(code), "option \(code)")
        }
    }

    @Test func edk2DiscoverFields() throws {
        let message = try DHCPMessage.decode(DHCPCaptures.edk2PXEDiscover)
        #expect(message.messageType == .discover)
        #expect(message.clientHardwareAddress == [0x52, 0x54, 0, 0, 1, 2])
        #expect(message.option(DHCPOption.vendorClass) == Array("PXEClient:Arch:00007:UNDI:003000".utf8))
        #expect(message.option(DHCPOption.clientArchitecture) == [0, 7])
        #expect(message.option(DHCPOption.clientMachineIdentifier)?.count == 17)
    }

    @Test func refusals() {
        var bytes = DHCPCaptures.udhcpcDiscover
        #expect(throws: DHCPDecodingError.tooShort(239)) { try DHCPMessage.decode(bytes.prefix(239)) }
        bytes[236] = 0
        #expect(throws: DHCPDecodingError.noMagicCookie) { try DHCPMessage.decode(bytes) }
        bytes = DHCPCaptures.udhcpcDiscover
        bytes[0] = 3
        #expect(throws: DHCPDecodingError.unknownOperation(3)) { try DHCPMessage.decode(bytes) }
        bytes = DHCPCaptures.udhcpcDiscover
        bytes[2] = 17
        #expect(throws: DHCPDecodingError.hardwareAddressTooLong(17)) { try DHCPMessage.decode(bytes) }
        // An option whose length runs past the datagram.
        let header = Array(DHCPCaptures.udhcpcDiscover.prefix(240))
        #expect(throws: DHCPDecodingError.truncatedOption(code: 60)) { try DHCPMessage.decode(header + [60, 9, 1, 2]) }
        #expect(throws: DHCPDecodingError.truncatedOption(code: 60)) { try DHCPMessage.decode(header + [60]) }
    }

    /// Pads are skipped; options end at END or, leniently, at the end of the datagram;
    /// repeated codes join (RFC 3396).
    @Test func optionsPadEndAndSplitValues() throws {
        let header = Array(DHCPCaptures.udhcpcDiscover.prefix(240))
        let message = try DHCPMessage.decode(header + [0, 0, 53, 1, 1, 60, 3, 80, 88, 69, 0, 60, 2, 67, 108])
        #expect(message.messageType == .discover)
        #expect(message.option(DHCPOption.vendorClass) == Array("PXECl".utf8))
        let ended = try DHCPMessage.decode(header + [53, 1, 3, 255, 60, 200])
        #expect(ended.messageType == .request && ended.option(DHCPOption.vendorClass) == nil)
    }

    /// A value over 255 bytes goes out as several options of the same code; replies are
    /// padded to 300 bytes; sname and file are cut to their fields.
    @Test func encodingSplitsPadsAndCuts() throws {
        var message = DHCPMessage(
            operation: .reply, transactionID: 0xDEAD_BEEF, clientHardwareAddress: [1, 2, 3, 4, 5, 6])
        message.options = [DHCPOption(DHCPOption.bootFileName, Array(repeating: 0x61, count: 600))]
        message.bootFile = String(repeating: "f", count: 200)
        message.serverName = String(repeating: "s", count: 100)
        let bytes = message.encode()
        let decoded = try DHCPMessage.decode(bytes)
        #expect(decoded.options.filter { $0.code == DHCPOption.bootFileName }.map(\.value.count) == [255, 255, 90])
        #expect(decoded.option(DHCPOption.bootFileName)?.count == 600)
        #expect(decoded.bootFile.count == 127 && decoded.serverName.count == 63)
        #expect(decoded.transactionID == 0xDEAD_BEEF)
        let short = DHCPMessage(operation: .reply, transactionID: 1, clientHardwareAddress: [1, 2, 3, 4, 5, 6]).encode()
        #expect(short.count == 300 && short[240] == DHCPOption.end)
    }

    @Test func addresses() {
        #expect(IPv4Address("192.0.2.1")?.value == 0xC000_0201)
        #expect(IPv4Address("192.0.2.1")?.bytes == [192, 0, 2, 1])
        #expect(IPv4Address(bytes: [192, 0, 2, 1]).description == "192.0.2.1")
        for bad in ["192.0.2", "192.0.2.256", "1.2.3.4.5", "a.b.c.d", "1..2.3", "+1.2.3.4", ""] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }
}
