import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// Packet-level behaviour of the real binary: strangers, write requests, hostile names,
/// repeated requests, limits, shutdown, IPv6. Each ends by fetching a normal file, so
/// "the server still serves" is checked every time.
@Suite struct ServerBehaviourTests {
    private func name(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func assertStillServes(_ server: TFTPDProcess, _ tree: ServedTree) throws {
        let peer = try UDPPeer()
        let result = peer.fetch(name("size-1468.bin"), port: server.port)
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-1468.bin"))
    }

    /// RFC 1350 §4 (docs/protocol.md, "Who gets an answer"): a stranger's packet to a transfer's port gets
    /// ERROR 5, and the transfer goes on undisturbed.
    @Test func strangerGetsError5AndTheTransferContinues() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let client = try UDPPeer()
        let stranger = try UDPPeer()
        var answered = false
        let result = client.fetch(name("size-100003.bin"), port: server.port) { block, tid in
            guard block == 3, !answered else { return }
            answered = true
            stranger.send(.ack(block: 3), port: tid)
            let reply = stranger.receive()
            #expect(reply?.port == tid)
            #expect(
                reply.map { "\($0.packet)" }
                    == "\(Result<Packet, PacketDecodingError>.success(.error(code: .unknownTransferID, message: "Unknown transfer ID")))"
            )
            // An ERROR from a stranger is never answered (docs/protocol.md, "Who gets an answer").
            stranger.send(.error(code: .notDefined, message: "x"), port: tid)
        }
        #expect(answered)
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-100003.bin"))
        #expect(stranger.receive(nonBlocking: true) == nil)
    }

    /// docs/protocol.md, "Who gets an answer": WRQ gets ERROR 2 and nothing is written, even over an existing
    /// world-writable file (tftp-hpa and atftpd overwrote it).
    @Test(.requires("atftp")) func writeRequestIsRefusedAndNothingIsWritten() throws {
        let tree = try ServedTree()
        try tree.write("writable.bin", Array("original".utf8), mode: 0o666)
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        for target in ["new.bin", "writable.bin"] {
            peer.send(.writeRequest(Request(filename: name(target), mode: .octet)), port: server.port)
            guard case .success(.error(let code, _))? = peer.receive()?.packet else {
                Issue.record("no ERROR for WRQ \(target)")
                continue
            }
            #expect(code == .accessViolation)
            peer.send(.data(block: 1, payload: ByteBuffer(bytes: Array("evil".utf8))), port: server.port)
        }
        #expect(!FileManager.default.fileExists(atPath: tree.path("new.bin")))
        #expect(tree.contents("writable.bin") == Array("original".utf8))
        let atftp = try ExternalTool.run([
            "atftp", "-p", "-l", "/etc/hostname", "-r", "new.bin", "127.0.0.1", String(server.port),
        ])
        #expect(atftp.status != 0)
        #expect(!FileManager.default.fileExists(atPath: tree.path("new.bin")))
        try assertStillServes(server, tree)
    }

    static let hostile: [(String, TFTPErrorCode)] = [
        ("../outside/secret", .accessViolation),
        ("/../outside/secret", .accessViolation),
        ("..\\outside\\secret", .accessViolation),
        ("sub/../../outside/secret", .accessViolation),
        ("escape", .fileNotFound),
        ("zero", .fileNotFound),
        ("fifo", .accessViolation),
        ("sub", .accessViolation),
        ("/", .accessViolation),
        ("private.bin", .accessViolation),
        ("missing", .fileNotFound),
        ("/etc/passwd", .fileNotFound),
        (String(repeating: "x", count: 300), .accessViolation),
    ]

    /// The hostile-name corpus: each gets its ERROR, nothing from outside the root is
    /// served, and the server serves a normal file right after.
    @Test func hostileNames() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        for (hostile, code) in Self.hostile {
            let peer = try UDPPeer()
            let result = peer.fetch(name(hostile), options: [.init(name: "tsize", value: "0")], port: server.port)
            #expect(result.bytes.isEmpty, "\(hostile)")
            #expect(result.error?.0 == code, "\(hostile): \(String(describing: result.error))")
        }
        // Non-UTF-8 bytes are just a name that does not exist.
        let peer = try UDPPeer()
        #expect(peer.fetch([0xFF, 0xFE, 0x2F, 0x80], port: server.port).error?.0 == .fileNotFound)
        try assertStillServes(server, tree)
    }

    /// Malformed datagrams on the listening port: ERROR 4 for a broken request, silence
    /// for the rest (never an answer to an ERROR); the server keeps serving.
    @Test func malformedPacketsOnTheListeningPort() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        let silent: [[UInt8]] = [
            [], [0], [0, 9], [0xFF, 0xFF], [0, 3, 0, 1, 1, 2], [0, 4, 0, 1], [0, 5, 0, 4, 0], [0, 6, 0],
            Array(repeating: 0x41, count: 60000),
        ]
        for datagram in silent { peer.send(datagram, port: server.port) }
        let answered: [[UInt8]] = [[0, 1], [0, 1, 0x41], [0, 1, 0x41, 0], [0, 1, 0x41, 0, 0x62, 0x69, 0x6E, 0]]
        for datagram in answered {
            peer.send(datagram, port: server.port)
            guard case .success(.error(let code, _))? = peer.receive()?.packet else {
                Issue.record("no ERROR 4 for \(datagram)")
                continue
            }
            #expect(code == .illegalOperation)
        }
        #expect(peer.receive(nonBlocking: true) == nil)
        try assertStillServes(server, tree)
    }

    /// docs/protocol.md, "Transfer IDs and repeated requests": a client that repeats its RRQ from the same port must not get two
    /// parallel transfers.
    @Test func repeatedRequestDoesNotStartASecondTransfer() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        let request = Packet.readRequest(Request(filename: name("size-100003.bin"), mode: .octet))
        peer.send(request, port: server.port)
        var repeated = false
        let result = peer.fetch(name("size-100003.bin"), port: server.port) { block, _ in
            if block == 1 && !repeated {
                repeated = true
                peer.send(request, port: server.port)
                _ = try? server.waitForLog(containing: "repeated request", count: 2)
            }
        }
        // The fetch sent a third RRQ; the repeats went to the running transfer, within the
        // minimum timeout of its DATA 1 (taken for the network's duplicates): one transfer.
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-100003.bin"))
        try server.waitForLog(containing: "repeated request", count: 2)
        try server.waitForLog(containing: "outcome=completed")
        let transfers = server.logText.split(separator: "\n").filter { $0.hasSuffix(" transfer") }
        #expect(transfers.count == 1)
    }

    /// --max-transfers: one more request than allowed gets an ERROR; freed slots serve again.
    @Test func transferLimit() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--max-transfers", "1"])
        let holder = try UDPPeer()
        holder.send(.readRequest(Request(filename: name("size-100003.bin"), mode: .octet)), port: server.port)
        guard let first = holder.receive(), case .success(.data(1, _)) = first.packet else {
            Issue.record("no DATA 1")
            return
        }
        let other = try UDPPeer()
        other.send(.readRequest(Request(filename: name("size-1.bin"), mode: .octet)), port: server.port)
        guard case .success(.error(_, let message))? = other.receive()?.packet else {
            Issue.record("no busy ERROR")
            return
        }
        #expect(message.contains("busy"))
        holder.send(.error(code: .notDefined, message: "done"), port: first.port)
        try server.waitForLog(containing: "outcome=client-error")
        try assertStillServes(server, tree)
    }

    /// SIGTERM: new requests are refused with an ERROR, the running transfer finishes,
    /// and the process exits 0.
    @Test func gracefulShutdownLetsRunningTransfersFinish() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let client = try UDPPeer()
        var signalled = false
        let result = client.fetch(name("size-100003.bin"), port: server.port) { block, _ in
            guard block == 2, !signalled else { return }
            signalled = true
            server.signal(SIGTERM)
            _ = try? server.waitForLog(containing: "shutting down")
            // A new request during the grace period is refused with an ERROR.
            let late = try? UDPPeer()
            late?.send(.readRequest(Request(filename: name("size-1.bin"), mode: .octet)), port: server.port)
            guard case .success(.error(_, let message))? = late?.receive()?.packet else {
                Issue.record("late request not refused")
                return
            }
            #expect(message.contains("shutting down"))
        }
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-100003.bin"))
        #expect(server.waitForExit() == 0)
        #expect(server.logText.contains("outcome=completed"))
    }

    /// After the grace period a transfer still running is ended with an ERROR.
    @Test func gracePeriodEndsStalledTransfers() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--grace-period", "0"])
        let client = try UDPPeer()
        client.send(.readRequest(Request(filename: name("size-100003.bin"), mode: .octet)), port: server.port)
        guard case .success(.data(1, _))? = client.receive()?.packet else {
            Issue.record("no DATA 1")
            return
        }
        server.signal(SIGTERM)
        var sawError = false
        while let (packet, _) = client.receive() {
            if case .success(.error(_, let message)) = packet {
                sawError = message.contains("shutting down")
                break
            }
        }
        #expect(sawError)
        #expect(server.waitForExit() == 0)
    }

    @Test(.requires("curl")) func ipv6Loopback() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, host: "::1")
        let peer = try UDPPeer(family: AF_INET6)
        let result = peer.fetch(
            name("size-513.bin"), options: [.init(name: "blksize", value: "1468")], port: server.port, host: "::1")
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-513.bin"))
        let out = try tree.downloads() + "/f"
        let curl = try ExternalTool.run(["curl", "-sS", "-g", "-o", out, "tftp://[::1]:\(server.port)/size-100003.bin"])
        #expect(curl.status == 0, "\(curl.output)")
        #expect(tree.contents("size-100003.bin") == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()))
    }

    /// docs/protocol.md, "Size probes": EDK2's size probe (tsize, then ERROR 8 after the OACK) is logged as a
    /// probe, not a failure.
    @Test func sizeProbeIsLoggedAsAProbe() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        let options: [TransferOption] = [
            .init(name: "tsize", value: "0"), .init(name: "blksize", value: "1468"),
            .init(name: "windowsize", value: "4"),
        ]
        peer.send(
            .readRequest(Request(filename: name("size-100003.bin"), mode: .octet, options: options)), port: server.port)
        guard let (packet, tid) = peer.receive(), case .success(.optionAcknowledgement(let acknowledged)) = packet
        else {
            Issue.record("no OACK")
            return
        }
        #expect(acknowledged.map { "\($0.name)=\($0.value)" } == ["tsize=100003", "blksize=1468", "windowsize=4"])
        peer.send(.error(code: .optionRefused, message: "User aborted the transfer"), port: tid)
        try server.waitForLog(containing: "outcome=size-probe")
        #expect(peer.receive(nonBlocking: true) == nil)
    }
}
