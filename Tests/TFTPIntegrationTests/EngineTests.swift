import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// The datagram engine under the real binary: a thousand transfers at once, several engine
/// threads on one listen address, a transfer socket destroyed by the kernel under a
/// running transfer. (A send buffer that fills is shown in `Tests/netns/backpressure`:
/// loopback never holds a datagram in a send buffer, a shaped link between namespaces does.)
@Suite struct EngineTests {
    static let tftp = TFTPDProcess.binary("tftp")

    private static func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    private static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// UDP sockets bound to `port` on loopback, from /proc/net/udp (read to its end: the
    /// file reports no size).
    private static func socketsBound(to port: Int) -> Int {
        let table =
            FileHandle(forReadingAtPath: "/proc/net/udp").map {
                String(decoding: $0.readDataToEndOfFile(), as: UTF8.self)
            } ?? ""
        let local = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first == Substring(local) }
            .count
    }

    /// A thousand transfers running at once from one address (the per-client limit lifted):
    /// every one completes with the right bytes, and every transfer socket is closed or
    /// back in the reuse pool afterwards.
    /// What `tftp_listener_drops_total` reads: the kernel's drop count of a socket whose
    /// receive buffer is full; and the buffer a listener asks for is granted (as root past
    /// `net.core.rmem_max`, else up to it).
    @Test func listenerSocketDropsAndReceiveBuffer() throws {
        let listener = try UDPSocket.open(family: sa_family_t(AF_INET))
        defer { close(listener) }
        let address = try #require(PeerAddress(try SocketAddress(ipAddress: "127.0.0.1", port: 0)))
        try UDPSocket.bind(listener, to: address)
        let local = try UDPSocket.localAddress(listener)
        #expect(UDPSocket.drops(listener) == 0)
        // The smallest buffer the kernel allows holds a few datagrams; the rest are dropped.
        try UDPSocket.set(listener, level: SOL_SOCKET, option: SO_RCVBUF, 1)
        let sender = try UDPPeer()
        for _ in 0..<200 { sender.send(Array(repeating: 0, count: 1000), port: Int(local.port)) }
        let dropped = try #require(UDPSocket.drops(listener))
        #expect(dropped > 100)
        #expect(dropped < 200)
        let granted = try #require(UDPSocket.growReceiveBuffer(listener, to: TFTPServer.listenerReceiveBuffer))
        let limit =
            Int32(
                (try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 212_992
        #expect(
            granted
                >= (geteuid() == 0
                    ? 2 * TFTPServer.listenerReceiveBuffer : min(2 * limit, 2 * TFTPServer.listenerReceiveBuffer)))
    }

    @Test func thousandTransfersAtOnce() throws {
        let tree = try ServedTree()
        try tree.write("64k.bin", ServedTree.randomBytes(65536, seed: 64))
        let server = try TFTPDProcess(
            root: tree.root, arguments: ["--max-per-client", "2000"])
        let pid = server.process.processIdentifier
        let baseline = Self.openDescriptors(pid)
        let bench = try ExternalTool.run(
            [
                Self.tftp, "bench", "127.0.0.1:\(server.port)", "64k.bin", "-n", "1000", "-c", "1000",
                "--blksize", "1468", "--verify", tree.path("64k.bin"),
            ], seconds: 240)
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.output.contains("transfers=1000 ok=1000 failed=0"), "\(bench.output)")
        // Clean ends leave their sockets in the pool for two seconds at most.
        var after = Self.openDescriptors(pid)
        for _ in 0..<500 where after > baseline {
            usleep(10_000)
            after = Self.openDescriptors(pid)
        }
        #expect(after <= baseline, "descriptors after: \(after), baseline \(baseline)")
    }

    /// `--threads 4`: four sockets share the listen address (SO_REUSEPORT) and clients from
    /// many ports, spread over them by the kernel, are all served.
    @Test func engineThreadsShareTheListenAddress() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--threads", "4"])
        #expect(try server.waitForLog(containing: "listening").contains("threads=4"))
        #expect(Self.socketsBound(to: server.port) == 4)
        for _ in 0..<40 {
            let peer = try UDPPeer()
            let result = peer.fetch(Self.name("size-2936.bin"), port: server.port)
            #expect(result.error == nil)
            #expect(result.bytes == tree.contents("size-2936.bin"))
        }
    }

    /// The kernel destroys a running transfer's socket (`ss -K`, as an administrator
    /// might): the transfer ends as aborted with the reason in its line, its slot is
    /// free, and the server goes on serving.
    @Test(.enabled(if: geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true", "needs root (ss -K)"))
    func transferSocketDestroyedUnderTheEngine() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--max-per-client", "1"])
        let client = try UDPPeer()
        client.send(.readRequest(Request(filename: Self.name("size-100003.bin"), mode: .octet)), port: server.port)
        guard let (first, tid) = client.receive(), case .success(.data(1, _)) = first else {
            Issue.record("no DATA 1")
            return
        }
        let killed = try ExternalTool.run(["ss", "-K", "-u", "-a", "-n", "sport = :\(tid)"])
        #expect(killed.status == 0, "\(killed.output)")
        let line = try server.waitForLog(containing: "outcome=aborted")
        #expect(line.contains("Software caused connection abort"), "\(line)")
        // The slot is free: the same address (limit 1) is served again.
        let again = try UDPPeer()
        let result = again.fetch(Self.name("size-100003.bin"), port: server.port)
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-100003.bin"))
    }
}

extension EngineTests {
    /// Reads that miss the page cache go to reader threads, so the engine thread never
    /// waits for the device. A warm cache rarely takes that path, so the server is told to
    /// take it for every read (`TFTPD_TEST_COLD_READS`): lockstep and windowed transfers
    /// arrive whole, and transfers that end while their read is in flight (a client that
    /// gives up right after ACK 0) leave nothing behind.
    @Test func readsThatWaitForTheDeviceLeaveTheThreadFree() throws {
        let tree = try ServedTree()
        let bytes = ServedTree.randomBytes(3 << 20, seed: 33)
        try tree.write("cold.bin", bytes)
        let server = try TFTPDProcess(root: tree.root, environment: ["TFTPD_TEST_COLD_READS": "1"])
        let peer = try UDPPeer()
        let result = peer.fetch(Self.name("cold.bin"), port: server.port)
        #expect(result.error == nil)
        #expect(result.bytes == bytes)
        let output = tree.base + "/cold-windowed.bin"
        let get = try ExternalTool.run([
            Self.tftp, "get", "127.0.0.1:\(server.port)", "cold.bin", "-o", output, "--blksize", "1468",
            "--windowsize", "16",
        ])
        #expect(get.status == 0, "\(get.output)")
        #expect(FileManager.default.contents(atPath: output).map(Array.init) == bytes)
        #expect(server.logText.contains("read waits for the device"))
        for _ in 0..<20 {
            let quitter = try UDPPeer()
            let options = [TransferOption(name: "blksize", value: "1468")]
            quitter.send(
                .readRequest(Request(filename: Self.name("cold.bin"), mode: .octet, options: options)),
                port: server.port)
            guard let (answer, tid) = quitter.receive(), case .success(.optionAcknowledgement) = answer else {
                Issue.record("no OACK")
                continue
            }
            quitter.send(.ack(block: 0), port: tid)
            quitter.send(.error(code: .notDefined, message: "gave up"), port: tid)
        }
        try server.waitForLog(containing: "outcome=client-error", count: 20)
        let again = try UDPPeer()
        #expect(again.fetch(Self.name("size-100003.bin"), port: server.port).bytes == tree.contents("size-100003.bin"))
    }
}
