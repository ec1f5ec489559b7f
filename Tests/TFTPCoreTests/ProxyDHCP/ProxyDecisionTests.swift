import Testing

@testable import TFTPCore

/// The proxy's decision, on requests captured from real firmware and on made-up ones for
/// each rule: what it answers, to whom, and when it stays silent.
@Suite struct ProxyDecisionTests {
    static let server = IPv4Address("192.0.2.1")!
    static let site = ProxySite(address: server, httpPort: 80)
    static let plan = ProxyBootPlan(
        bootFiles: [.bios: "undionly.kpxe", .efiX64: "ipxe.efi"], iPXEScript: "boot.ipxe")

    struct Row: Sendable, CustomTestStringConvertible {
        var capture: String
        var port: ProxyPort
        /// The boot file or URL told, or the reason for silence.
        var expected: Result<String, ProxyIgnoreReason>
        var testDescription: String { "\(capture) on \(port.rawValue)" }
    }

    static let rows: [Row] = [
        Row(capture: "iPXEBIOSDiscover", port: .dhcp, expected: .success("http://192.0.2.1/boot.ipxe")),
        Row(capture: "edk2PXEDiscover", port: .dhcp, expected: .success("ipxe.efi")),
        Row(capture: "edk2PXERequestToDHCPServer", port: .dhcp, expected: .failure(.leaseRequest)),
        Row(capture: "edk2BootServiceRequest", port: .bootService, expected: .success("ipxe.efi")),
        Row(capture: "edk2HTTPDiscover", port: .dhcp, expected: .success("http://192.0.2.1/ipxe.efi")),
        Row(capture: "iPXEEFIDiscover", port: .dhcp, expected: .success("http://192.0.2.1/boot.ipxe")),
        Row(capture: "udhcpcDiscover", port: .dhcp, expected: .failure(.notBootClient)),
        Row(capture: "udhcpcDiscover", port: .bootService, expected: .failure(.notBootClient)),
        Row(capture: "edk2PXEDiscover", port: .bootService, expected: .failure(.messageType)),
    ]

    @Test(arguments: rows)
    func realClients(row: Row) throws {
        let bytes = try #require(DHCPCaptures.all.first { $0.0 == row.capture }?.1)
        let request = try DHCPMessage.decode(bytes)
        let verdict = ProxyDecision.answer(request, on: row.port, plan: Self.plan, site: Self.site)
        #expect(verdict.map(\.told) == row.expected)
        guard case .success(let reply) = verdict else { return }
        let message = try DHCPMessage.decode(reply.message.encode())
        // Never an address; who we are and where to boot from; the client's own identifiers.
        #expect(message.operation == .reply && message.yourAddress == .zero)
        #expect(message.transactionID == request.transactionID)
        #expect(message.clientHardwareAddress == request.clientHardwareAddress)
        #expect(message.option(DHCPOption.serverIdentifier) == Self.server.bytes)
        #expect(message.serverAddress == Self.server)
        #expect(
            message.option(DHCPOption.clientMachineIdentifier) == request.option(DHCPOption.clientMachineIdentifier))
        #expect(message.flags == request.flags && message.relayAddress == request.relayAddress)
        switch row.port {
        case .dhcp:
            #expect(message.messageType == .offer && reply.destination == .broadcast)
            #expect(message.clientAddress == .zero)
        case .bootService:
            #expect(message.messageType == .ack && reply.destination == .sender)
            #expect(message.clientAddress == request.clientAddress && request.clientAddress != .zero)
        }
        let http = reply.client.firmware == .http
        #expect(message.option(DHCPOption.vendorClass) == Array((http ? "HTTPClient" : "PXEClient").utf8))
        // UEFI and iPXE get no option 43: EDK2 then asks the boot service (port 4011).
        #expect(message.option(DHCPOption.vendorSpecific) == nil)
        #expect(message.bootFile == reply.told)
        if http { #expect(message.option(DHCPOption.bootFileName) == Array(reply.told.utf8)) }
    }

    @Test func whoTheCapturedClientsAre() throws {
        func client(_ bytes: [UInt8]) throws -> BootClient { try BootClient(try DHCPMessage.decode(bytes)) }
        #expect(try client(DHCPCaptures.iPXEBIOSDiscover).firmware == .iPXE)
        #expect(try client(DHCPCaptures.iPXEBIOSDiscover).architecture == .bios)
        #expect(try client(DHCPCaptures.edk2PXEDiscover).firmware == .pxe)
        #expect(try client(DHCPCaptures.edk2PXEDiscover).architecture == .efiX64)
        #expect(try client(DHCPCaptures.edk2HTTPDiscover).firmware == .http)
        #expect(try client(DHCPCaptures.edk2HTTPDiscover).architecture == .efiX64HTTP)
        #expect(try client(DHCPCaptures.iPXEEFIDiscover).firmware == .iPXE)
        #expect(try client(DHCPCaptures.edk2PXEDiscover).hardwareAddressText == "52:54:00:00:01:02")
    }

    /// A made-up request: vendor class, option 93, user class, message type.
    static func request(
        vendor: String? = "PXEClient:Arch:00000:UNDI:002001", architecture: UInt16? = 0, userClass: String? = nil,
        type: DHCPMessageType = .discover, serverID: IPv4Address? = nil
    ) -> DHCPMessage {
        var message = DHCPMessage(operation: .request, transactionID: 42, clientHardwareAddress: [2, 0, 0, 0, 0, 1])
        message.options = [DHCPOption(DHCPOption.messageType, [type.rawValue])]
        if let vendor { message.options.append(DHCPOption(DHCPOption.vendorClass, text: vendor)) }
        if let architecture {
            message.options.append(
                DHCPOption(DHCPOption.clientArchitecture, [UInt8(architecture >> 8), UInt8(architecture & 0xFF)]))
        }
        if let userClass { message.options.append(DHCPOption(DHCPOption.userClass, text: userClass)) }
        if let serverID { message.options.append(DHCPOption(DHCPOption.serverIdentifier, serverID.bytes)) }
        return message
    }

    static func answer(
        _ request: DHCPMessage, port: ProxyPort = .dhcp, plan: ProxyBootPlan = plan, site: ProxySite = site
    )
        -> Result<ProxyReply, ProxyIgnoreReason>
    {
        ProxyDecision.answer(request, on: port, plan: plan, site: site)
    }

    /// A BIOS PXE ROM that is not iPXE gets option 43 with discovery control 8: boot the
    /// file named here, no boot server discovery.
    @Test func biosPXEGetsDiscoveryControl() throws {
        let reply = try Self.answer(Self.request()).get()
        #expect(reply.told == "undionly.kpxe")
        #expect(reply.message.option(DHCPOption.vendorSpecific) == [6, 1, 8, 255])
    }

    @Test func architectures() throws {
        // x86-64 UEFI firmware that sends 9 is served as 7.
        #expect(try Self.answer(Self.request(vendor: "PXEClient", architecture: 9)).get().told == "ipxe.efi")
        // Without option 93, the vendor class's Arch field; without either, BIOS.
        #expect(
            try Self.answer(Self.request(vendor: "PXEClient:Arch:00007:UNDI:003000", architecture: nil)).get().told
                == "ipxe.efi")
        #expect(try Self.answer(Self.request(vendor: "PXEClient", architecture: nil)).get().told == "undionly.kpxe")
        #expect(Self.answer(Self.request(architecture: 0x99)).map(\.told) == .failure(.unknownArchitecture))
        #expect(
            Self.answer(Self.request(vendor: "HTTPClient", architecture: nil)).map(\.told)
                == .failure(.unknownArchitecture))
        #expect(Self.answer(Self.request(architecture: 11)).map(\.told) == .failure(.noBootFile))
    }

    @Test func httpBoot() throws {
        let http = Self.request(vendor: "HTTPClient:Arch:00016:UNDI:003000", architecture: 16)
        // Its own file first, else its PXE counterpart's; a URL passes as it is.
        let own = ProxyBootPlan(bootFiles: [.efiX64: "ipxe.efi", .efiX64HTTP: "/efi/shim.efi"])
        #expect(try Self.answer(http, plan: own).get().told == "http://192.0.2.1/efi/shim.efi")
        let url = ProxyBootPlan(bootFiles: [.efiX64HTTP: "https://boot.example/x.efi"])
        #expect(try Self.answer(http, plan: url).get().told == "https://boot.example/x.efi")
        let port = ProxySite(address: Self.server, httpPort: 8080)
        #expect(try Self.answer(http, site: port).get().told == "http://192.0.2.1:8080/ipxe.efi")
        let none = ProxySite(address: Self.server, httpPort: nil)
        #expect(Self.answer(http, site: none).map(\.told) == .failure(.noHTTPListener))
    }

    @Test func whenThePlanNeedsTheHTTPListener() {
        #expect(!ProxyBootPlan(bootFiles: [.bios: "undionly.kpxe", .efiX64: "ipxe.efi"]).needsHTTPListener)
        #expect(ProxyBootPlan(bootFiles: [.efiX64HTTP: "ipxe.efi"]).needsHTTPListener)
        #expect(!ProxyBootPlan(bootFiles: [.efiX64HTTP: "http://192.0.2.9/ipxe.efi"]).needsHTTPListener)
        #expect(ProxyBootPlan(bootFiles: [:], iPXEScript: "boot.ipxe").needsHTTPListener)
        #expect(!ProxyBootPlan(bootFiles: [:], iPXEScript: "http://192.0.2.9/boot.ipxe").needsHTTPListener)
    }

    @Test func iPXE() throws {
        let iPXE = Self.request(vendor: "PXEClient:Arch:00007:UNDI:003010", architecture: 7, userClass: "iPXE")
        #expect(try Self.answer(iPXE).get().told == "http://192.0.2.1/boot.ipxe")
        #expect(try Self.answer(iPXE).get().client.firmware == .iPXE)
        // A script URL passes as it is; without a script iPXE is any PXE client.
        let url = ProxyBootPlan(bootFiles: [:], iPXEScript: "http://192.0.2.7/menu.ipxe")
        #expect(try Self.answer(iPXE, plan: url).get().told == "http://192.0.2.7/menu.ipxe")
        let none = ProxyBootPlan(bootFiles: [.efiX64: "ipxe.efi"])
        #expect(try Self.answer(iPXE, plan: none).get().told == "ipxe.efi")
        // A script under the root needs the HTTP listener.
        let noHTTP = ProxySite(address: Self.server, httpPort: nil)
        #expect(Self.answer(iPXE, site: noHTTP).map(\.told) == .failure(.noHTTPListener))
        // RFC 3004's length-prefixed user class counts too.
        var prefixed = Self.request(vendor: "PXEClient", architecture: 0)
        prefixed.options.append(DHCPOption(DHCPOption.userClass, [4] + Array("iPXE".utf8)))
        #expect(try Self.answer(prefixed).get().client.firmware == .iPXE)
    }

    /// What a proxy answers: a DISCOVER on port 67, a REQUEST or an INFORM on port 4011;
    /// never a request for a lease, whatever server it names.
    @Test func messageTypesAndPorts() throws {
        #expect(try Self.answer(Self.request(type: .discover)).get().message.messageType == .offer)
        // Every REQUEST on port 67 is the lease exchange with the network's DHCP server:
        // naming this server's address (a proxy sharing the DHCP server's host and address),
        // another server, or none (a renewal).
        let other = IPv4Address("192.0.2.2")!
        for server in [Self.server, other, nil] {
            #expect(Self.answer(Self.request(type: .request, serverID: server)).map(\.told) == .failure(.leaseRequest))
        }
        for type in [DHCPMessageType.decline, .release, .inform] {
            #expect(Self.answer(Self.request(type: type)).map(\.told) == .failure(.messageType))
        }
        // Port 4011, the boot service: REQUEST and INFORM are answered to their sender...
        #expect(try Self.answer(Self.request(type: .inform), port: .bootService).get().destination == .sender)
        #expect(try Self.answer(Self.request(type: .request), port: .bootService).get().message.messageType == .ack)
        // ... but not one that asks for an address.
        var asking = Self.request(type: .request)
        asking.options.append(DHCPOption(DHCPOption.requestedAddress, [192, 0, 2, 114]))
        #expect(Self.answer(asking, port: .bootService).map(\.told) == .failure(.leaseRequest))
        #expect(Self.answer(Self.request(type: .discover), port: .bootService).map(\.told) == .failure(.messageType))
        var reply = Self.request()
        reply.operation = .reply
        #expect(Self.answer(reply).map(\.told) == .failure(.notARequest))
        #expect(Self.answer(Self.request(vendor: nil)).map(\.told) == .failure(.notBootClient))
        #expect(Self.answer(Self.request(vendor: "MSFT 5.0")).map(\.told) == .failure(.notBootClient))
    }

    /// A relayed request is answered through its relay agent (RFC 2131 §4.1).
    @Test func relayedRequests() throws {
        var relayed = Self.request()
        relayed.relayAddress = IPv4Address("198.51.100.1")!
        let reply = try Self.answer(relayed).get()
        #expect(reply.destination == .relay(IPv4Address("198.51.100.1")!))
        #expect(reply.message.relayAddress == relayed.relayAddress)
    }

    /// A URL longer than `file` holds goes in option 67 alone.
    @Test func longNamesGoInOption67() throws {
        let long = "http://192.0.2.1/" + String(repeating: "d/", count: 70) + "x.efi"
        let plan = ProxyBootPlan(bootFiles: [.efiX64HTTP: long])
        let reply = try Self.answer(Self.request(vendor: "HTTPClient", architecture: 16), plan: plan).get()
        #expect(reply.message.bootFile.isEmpty)
        #expect(reply.message.option(DHCPOption.bootFileName) == Array(long.utf8))
    }
}
