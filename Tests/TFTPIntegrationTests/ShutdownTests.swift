import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// Graceful shutdown with many transfers running: they finish, newcomers are refused, the
/// process exits 0; a second signal ends the rest with an ERROR to each client.
@Suite struct ShutdownTests {
    private static func request(_ name: String) -> Packet {
        .readRequest(Request(filename: Array(name.utf8), mode: .octet))
    }

    /// Twenty lockstep transfers, each holding after DATA 1 while SIGTERM arrives.
    @Test func twentyTransfersFinishAfterSIGTERM() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let expected = tree.contents("size-100003.bin")
        var clients: [(peer: UDPPeer, tid: Int, bytes: [UInt8])] = []
        for _ in 0..<20 {
            let peer = try UDPPeer()
            peer.send(Self.request("size-100003.bin"), port: server.port)
            guard let (packet, tid) = peer.receive(), case .success(.data(1, let payload)) = packet else {
                Issue.record("no DATA 1")
                return
            }
            clients.append((peer, tid, Array(payload.readableBytesView)))
        }
        server.signal(SIGTERM)
        try server.waitForLog(containing: "shutting down")
        let late = try UDPPeer()
        late.send(Self.request("size-1.bin"), port: server.port)
        guard case .success(.error(_, let message))? = late.receive()?.packet else {
            Issue.record("late request not refused")
            return
        }
        #expect(message.contains("shutting down"))
        // Drive every transfer to its end, round-robin.
        var block: [UInt16] = Array(repeating: 1, count: 20)
        var done = Array(repeating: false, count: 20)
        while done.contains(false) {
            for i in 0..<20 where !done[i] {
                let client = clients[i]
                client.peer.send(.ack(block: block[i]), port: client.tid)
                if block[i] > 0, clients[i].bytes.count == expected.count {
                    done[i] = true
                    continue
                }
                guard let (packet, _) = client.peer.receive(), case .success(.data(let n, let payload)) = packet else {
                    Issue.record("transfer \(i) broke off")
                    return
                }
                if n == block[i] &+ 1 {
                    clients[i].bytes += payload.readableBytesView
                    block[i] = n
                }
            }
        }
        for client in clients { #expect(client.bytes == expected) }
        #expect(server.waitForExit() == 0)
        #expect(server.logText.components(separatedBy: "outcome=completed").count - 1 == 20)
    }

    /// A second SIGTERM ends the transfers still running at once, each client told.
    @Test func secondSignalEndsTheRest() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--grace-period", "60"])
        var peers: [UDPPeer] = []
        for _ in 0..<3 {
            let peer = try UDPPeer()
            peer.send(Self.request("size-100003.bin"), port: server.port)
            guard case .success(.data(1, _))? = peer.receive()?.packet else {
                Issue.record("no DATA 1")
                return
            }
            peers.append(peer)
        }
        server.signal(SIGTERM)
        try server.waitForLog(containing: "shutting down")
        server.signal(SIGTERM)
        for peer in peers {
            var told = false
            while let (packet, _) = peer.receive() {
                if case .success(.error) = packet {
                    told = true
                    break
                }
            }
            #expect(told)
        }
        #expect(server.waitForExit() == 0)
    }
}
