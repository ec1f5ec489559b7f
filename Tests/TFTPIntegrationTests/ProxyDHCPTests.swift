import Foundation
import Glibc
import Logging
import Testing

@testable import TFTPCore

/// The proxy service on real sockets: on the loopback interface (bound to it with
/// SO_BINDTODEVICE), at test ports instead of 67 and 4011 so that no root is needed. The
/// boot service answers a captured EDK2 request; what is not a boot client's gets nothing.
/// (Port 67's broadcasts need a real segment: `Tests/firmware/proxy-dhcp`.)
@Suite struct ProxyDHCPTests {
    /// Two free UDP ports on 127.0.0.1 (bound and released; the service binds them next).
    private func freePorts() throws -> (UInt16, UInt16) {
        let first = try UDPPeer()
        let second = try UDPPeer()
        return (UInt16(try first.bindLoopback()), UInt16(try second.bindLoopback()))
    }

    /// A request captured from real firmware (the DHCP fuzz target's seeds).
    private func capture(_ name: String) throws -> [UInt8] {
        let path = "\(#filePath)".split(separator: "/").dropLast(3).joined(separator: "/")
        let file = "/\(path)/fixtures/fuzz/DHCPFuzz/\(name)"
        guard let handle = fopen(file, "rb") else { throw TestFailure("no capture \(file)") }
        defer { fclose(handle) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = fread(&bytes, 1, bytes.count, handle)
        return Array(bytes.prefix(count))
    }

    @Test func bootServiceAnswersOnlyBootClients() async throws {
        let (dhcpPort, bootPort) = try freePorts()
        let configuration = ProxyDHCPConfiguration(
            interfaces: ["lo"], plan: ProxyBootPlan(bootFiles: [.efiX64: "ipxe.efi"]),
            httpListen: [ListenAddress(host: "0.0.0.0", port: 8080)])
        let (ready, readiness) = AsyncStream.makeStream(of: Void.self)
        let server = ProxyDHCPServer(
            configuration: configuration, logger: Logger(label: "test"), metrics: ServerMetrics(),
            ports: (dhcpPort, bootPort), onListening: { _ in readiness.yield() })
        let running = Task { try await server.run() }
        defer { running.cancel() }
        var iterator = ready.makeAsyncIterator()
        await iterator.next()

        let client = try UDPPeer()
        _ = try client.bindLoopback()
        // A plain client's message first, then EDK2's boot service request: the first
        // answer that comes is for the second (the first got nothing).
        client.send(try capture("udhcpcDiscover"), port: Int(bootPort))
        var request = try DHCPMessage.decode(try capture("edk2BootServiceRequest"))
        request.clientAddress = IPv4Address("127.0.0.1")!
        client.send(request.encode(), port: Int(bootPort))
        let answer = try #require(client.receiveBytes())
        #expect(answer.port == Int(bootPort))
        let reply = try DHCPMessage.decode(answer.bytes)
        #expect(reply.messageType == .ack)
        #expect(reply.transactionID == request.transactionID)
        #expect(reply.bootFile == "ipxe.efi")
        #expect(reply.serverAddress == IPv4Address("127.0.0.1")!)
        #expect(reply.yourAddress == .zero && reply.clientAddress == request.clientAddress)
        // Garbage gets nothing either, and the service keeps answering.
        client.send([1, 2, 3], port: Int(bootPort))
        client.send(request.encode(), port: Int(bootPort))
        let again = try DHCPMessage.decode(try #require(client.receiveBytes()).bytes)
        #expect(again.messageType == .ack && again.bootFile == "ipxe.efi")
    }

    /// The real daemon, flags to metrics: `--proxy-dhcp lo` binds 255.255.255.255:67 and
    /// 127.0.0.1:4011 (port 67 needs root); a plain client's message and a captured EDK2
    /// boot service request; the ACK, the log line and both counters.
    @Test(.enabled(if: geteuid() == 0, "needs root (port 67)"), .requires("curl"))
    func daemonAnswersLogsAndCounts() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(
            root: tree.root,
            arguments: ["--proxy-dhcp", "lo", "--boot-file", "efi-x64=ipxe.efi", "--metrics", "127.0.0.1:0"])
        let metricsPort = try server.port(fromLogLineContaining: "serving metrics")
        try server.waitForLog(containing: "proxyDHCP answering boot clients")
        let client = try UDPPeer()
        _ = try client.bindLoopback()
        client.send(try capture("udhcpcDiscover"), port: 4011)
        var request = try DHCPMessage.decode(try capture("edk2BootServiceRequest"))
        request.clientAddress = IPv4Address("127.0.0.1")!
        client.send(request.encode(), port: 4011)
        let reply = try DHCPMessage.decode(try #require(client.receiveBytes()).bytes)
        #expect(reply.messageType == .ack && reply.bootFile == "ipxe.efi")
        let line = try server.waitForLog(containing: "proxy ack")
        #expect(line.contains("mac=52:54:00:00:01:02") && line.contains("architecture=efi-x64"))
        #expect(line.contains("firmware=pxe") && line.contains("boot=ipxe.efi") && line.contains("port=4011"))

        let scrape = try ExternalTool.run(["curl", "-sS", "http://127.0.0.1:\(metricsPort)/metrics"])
        let samples = Dictionary(
            scrape.output.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                line.split(separator: " ").count == 2
                    ? (String(line.split(separator: " ")[0]), String(line.split(separator: " ")[1])) : nil
            },
            uniquingKeysWith: { $1 })
        #expect(samples[#"proxy_dhcp_replies_total{architecture="efi-x64",firmware="pxe"}"#] == "1")
        #expect(samples[#"proxy_dhcp_ignored_total{reason="not-boot-client"}"#] == "1")
        #expect(samples[#"proxy_dhcp_replies_total{architecture="bios",firmware="ipxe"}"#] == "0")
    }

    @Test func anInterfaceThatIsNotThereIsNamed() async throws {
        let configuration = ProxyDHCPConfiguration(
            interfaces: ["nosuchif0"], plan: ProxyBootPlan(bootFiles: [.bios: "x"]), httpListen: [])
        let server = ProxyDHCPServer(
            configuration: configuration, logger: Logger(label: "test"), metrics: ServerMetrics(), ports: (0, 0))
        await #expect {
            try await server.run()
        } throws: { error in
            "\(error)".contains("nosuchif0") && "\(error)".contains("no such interface")
        }
    }
}
