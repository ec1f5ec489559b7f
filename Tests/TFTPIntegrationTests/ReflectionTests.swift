import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// The reflection bound with the real binary (docs/protocol.md, "Requests nobody
/// acknowledges"): an RRQ nobody acknowledges gets its first packet and one retransmission,
/// then silence and its slot back; the client's late ACK resumes the transfer; a repeated
/// request gets the first packet again. Over IPv4 and IPv6, with and without options, with
/// a socket per transfer and in single-port mode.
@Suite struct ReflectionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var ipv6 = false
        var singlePort = false
        var options = false
        var host: String { ipv6 ? "::1" : "127.0.0.1" }
        var testDescription: String {
            "\(ipv6 ? "IPv6" : "IPv4")\(singlePort ? ", single port" : ""), \(options ? "blksize 1468" : "plain")"
        }
    }

    static let cases = [
        Case(), Case(options: true), Case(ipv6: true), Case(ipv6: true, options: true),
        Case(singlePort: true), Case(singlePort: true, options: true),
    ]

    private static let file = "size-100003.bin"

    private func request(_ c: Case) -> Packet {
        let options = c.options ? [TransferOption(name: "blksize", value: "1468")] : []
        return .readRequest(Request(filename: Array(Self.file.utf8), mode: .octet, options: options))
    }

    /// Everything waiting on the peer's socket now.
    private func drain(_ peer: UDPPeer) -> [(packet: Packet, port: Int)] {
        var received: [(Packet, Int)] = []
        while let (decoded, port) = peer.receive(nonBlocking: true) {
            if case .success(let packet) = decoded { received.append((packet, port)) }
        }
        return received
    }

    /// Acknowledges `first` (the OACK or DATA 1) and follows the lockstep transfer to its
    /// end; returns the file's bytes.
    private func finish(
        from first: Packet, peer: UDPPeer, tid: Int, host: String, blockSize: Int
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        var expected: UInt16 = 1
        var ack: UInt16 = 0
        if case .data(1, let payload) = first {
            bytes += payload.readableBytesView
            expected = 2
            ack = 1
        }
        peer.send(.ack(block: ack), port: tid, host: host)
        while let (decoded, from) = peer.receive() {
            guard from == tid, case .success(.data(let block, let payload)) = decoded else { return bytes }
            if block == expected {
                bytes += payload.readableBytesView
                expected &+= 1
            }
            peer.send(.ack(block: block), port: tid, host: host)
            if payload.readableBytes < blockSize { return bytes }
        }
        return bytes
    }

    @Test(arguments: cases)
    func unacknowledgedRequestGetsTwoPacketsThenResumesOnALateAck(_ c: Case) throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(
            root: tree.root, host: c.host,
            arguments: ["--timeout", "100", "--late-ack-wait", "60"] + (c.singlePort ? ["--single-port"] : []))
        let peer = try UDPPeer(family: c.ipv6 ? AF_INET6 : AF_INET)
        peer.send(request(c), port: server.port, host: c.host)
        try server.waitForLog(containing: "suspended")
        let received = drain(peer)
        #expect(received.count == 2)
        let (first, tid) = try #require(received.first)
        #expect(received.allSatisfy { $0.packet == first && $0.port == tid })
        if c.options {
            #expect(first == .optionAcknowledgement([TransferOption(name: "blksize", value: "1468")]))
        } else {
            guard case .data(1, let payload) = first else {
                Issue.record("expected DATA 1, got \(first)")
                return
            }
            #expect(payload.readableBytes == 512)
        }
        // The late ACK (curl's comes after 72 s): the transfer resumes and completes.
        let bytes = finish(from: first, peer: peer, tid: tid, host: c.host, blockSize: c.options ? 1468 : 512)
        #expect(bytes == tree.contents(Self.file))
        try server.waitForLog(containing: "outcome=completed")
    }

    /// A suspended transfer holds no slot: with one transfer per address, another port of
    /// the same address is served meanwhile; the suspended one resumes after that.
    @Test func suspendedTransferGivesItsSlotBack() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(
            root: tree.root, arguments: ["--timeout", "100", "--max-per-client", "1", "--late-ack-wait", "60"])
        let silent = try UDPPeer()
        silent.send(request(Case()), port: server.port)
        try server.waitForLog(containing: "suspended")
        let received = drain(silent)
        #expect(received.count == 2)
        let other = try UDPPeer()
        let result = other.fetch(Array("size-1468.bin".utf8), port: server.port)
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-1468.bin"))
        try server.waitForLog(containing: "outcome=completed")
        let (first, tid) = try #require(received.first)
        #expect(
            finish(from: first, peer: silent, tid: tid, host: "127.0.0.1", blockSize: 512) == tree.contents(Self.file))
    }

    /// The client asks again before it has acknowledged anything (its first answer was
    /// lost): the same transfer answers with its first packet at once. The timer's own
    /// retransmission is 30 s away, past the receive bound, so what arrives is the answer.
    @Test(arguments: [Case(), Case(options: true), Case(singlePort: true), Case(singlePort: true, options: true)])
    func repeatedRequestGetsTheFirstPacketAgain(_ c: Case) throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(
            root: tree.root, arguments: ["--timeout", "30000"] + (c.singlePort ? ["--single-port"] : []))
        let peer = try UDPPeer()
        peer.send(request(c), port: server.port)
        guard let (firstDecoded, tid) = peer.receive(), case .success(let first) = firstDecoded else {
            Issue.record("no first packet")
            return
        }
        // A client's retransmission interval (busybox's first is 100 ms): a copy of the
        // request within the minimum timeout would be taken for the network's duplicate.
        usleep(100_000)
        peer.send(request(c), port: server.port)
        guard let (againDecoded, againTid) = peer.receive(), case .success(let again) = againDecoded else {
            Issue.record("the repeated request was not answered")
            return
        }
        #expect(again == first)
        #expect(againTid == tid)
        let bytes = finish(from: first, peer: peer, tid: tid, host: "127.0.0.1", blockSize: c.options ? 1468 : 512)
        #expect(bytes == tree.contents(Self.file))
        try server.waitForLog(containing: "outcome=completed")
    }
}
