import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// Hostile input against the real binary: every datagram of the corpus
/// (`fixtures/hostile/tftp-listener.txt`) gets exactly its answer; transfer IDs are abused,
/// transfers get noise, a client's port asks again while its transfer is unproven or
/// suspended. Each test ends with the server still serving.
///
/// Silence is proven without waiting: after the hostile datagram the same socket sends a
/// probe (a WRQ, refused at once from the listener); the server handles one client port's
/// datagrams in order, so the probe's answer is the first thing to arrive when the hostile
/// datagram got none.
@Suite struct HostileInputTests {
    let tree: ServedTree
    let server: TFTPDProcess

    init() throws {
        tree = try ServedTree()
        server = try TFTPDProcess(root: tree.root)
    }

    private static func name(_ text: String) -> [UInt8] { Array(text.utf8) }
    private static let probe = Packet.writeRequest(Request(filename: Array("probe".utf8), mode: .octet))
    private static let probeAnswer = RequestRefusal.writeRequest.reply

    /// Sends the probe and reads until its answer; returns what came before it.
    private func beforeProbe(_ peer: UDPPeer) -> [(packet: Result<Packet, PacketDecodingError>, port: Int)] {
        peer.send(Self.probe, port: server.port)
        var seen: [(packet: Result<Packet, PacketDecodingError>, port: Int)] = []
        while let answer = peer.receive() {
            if answer.port == server.port, case .success(let packet) = answer.packet, packet == Self.probeAnswer {
                return seen
            }
            seen.append(answer)
        }
        Issue.record("the probe got no answer: the server stopped answering")
        return seen
    }

    private func assertStillServes() {
        let peer = try? UDPPeer()
        let result = peer?.fetch(Self.name("size-1468.bin"), port: server.port)
        #expect(result?.error == nil)
        #expect(identical(result?.bytes ?? [], tree.contents("size-1468.bin")))
    }

    // MARK: - The corpus

    @Test(arguments: try HostileCase.load())
    func listenerDatagram(_ hostile: HostileCase) throws {
        let peer = try UDPPeer()
        peer.send(hostile.datagram, port: server.port)
        switch hostile.answer {
        case .silence:
            let answers = beforeProbe(peer)
            #expect(answers.isEmpty, "answered \(answers.map(\.packet))")
        case .error(let code):
            let answer = try #require(peer.receive())
            guard case .success(.error(let got, _)) = answer.packet else {
                Issue.record("expected ERROR \(code), got \(answer.packet)")
                return
            }
            #expect(got.rawValue == code)
            #expect(beforeProbe(peer).isEmpty)
        case .data(let length):
            let answer = try #require(peer.receive())
            guard case .success(.data(let block, let payload)) = answer.packet else {
                Issue.record("expected DATA 1, got \(answer.packet)")
                return
            }
            #expect(block == 1)
            #expect(payload.readableBytes == length)
            peer.send(.error(code: .notDefined, message: "enough"), port: answer.port)
            #expect(beforeProbe(peer).isEmpty)
        case .oack(let options):
            let answer = try #require(peer.receive())
            guard case .success(.optionAcknowledgement(let granted)) = answer.packet else {
                Issue.record("expected an OACK, got \(answer.packet)")
                return
            }
            #expect(granted.map { "\($0.name)=\($0.value)" } == options)
            peer.send(.error(code: .notDefined, message: "enough"), port: answer.port)
            #expect(beforeProbe(peer).isEmpty)
        }
        assertStillServes()
    }

    // MARK: - Transfer IDs

    /// The client's own address from another port, mid-transfer: a stranger to the
    /// transfer, answered with ERROR 5; the transfer goes on from the client's real port.
    @Test func anotherPortOfTheClientIsAStranger() throws {
        let client = try UDPPeer()
        let other = try UDPPeer()
        var answered = false
        let result = client.fetch(Self.name("size-100003.bin"), port: server.port) { block, tid in
            guard block == 3, !answered else { return }
            answered = true
            other.send(.ack(block: 3), port: tid)
            #expect(
                other.receive()?.packet == .success(.error(code: .unknownTransferID, message: "Unknown transfer ID")))
            // Noise a stranger may send: an ERROR and garbage get nothing.
            other.send(.error(code: .notDefined, message: "stop"), port: tid)
            other.send([0xff, 0xff, 0x00], port: tid)
            other.send([UInt8](repeating: 0x41, count: 65000), port: tid)
        }
        #expect(answered)
        #expect(result.error == nil)
        #expect(identical(result.bytes, tree.contents("size-100003.bin")))
        #expect(beforeProbe(other).isEmpty)
    }

    /// DATA from the client to its transfer has no place in a read: ERROR 4, and the end.
    @Test func dataFromTheClientEndsItsTransfer() throws {
        let client = try UDPPeer()
        client.send(.readRequest(Request(filename: Self.name("size-100003.bin"), mode: .octet)), port: server.port)
        let first = try #require(client.receive())
        client.send(.data(block: 1, payload: ByteBuffer(string: "upload?")), port: first.port)
        let answer = try #require(client.receive())
        #expect(answer.port == first.port)
        #expect(answer.packet == .success(.error(code: .illegalOperation, message: "Illegal TFTP operation")))
        _ = try server.waitForLog(containing: "outcome=protocol-violation")
        assertStillServes()
    }

    /// Duplicate ACKs never make the server resend (RFC 1123 §4.2.3.1), an ACK of a block not
    /// sent yet is ignored, and an ACK padded to 65,000 bytes is an ACK: one DATA per block.
    @Test func duplicateFutureAndPaddedAcksResendNothing() throws {
        let client = try UDPPeer()
        client.send(.readRequest(Request(filename: Self.name("size-2936.bin"), mode: .octet)), port: server.port)
        var blocks: [UInt16] = []
        var bytes: [UInt8] = []
        while let (decoded, port) = client.receive() {
            guard case .success(.data(let block, let payload)) = decoded else {
                Issue.record("unexpected \(decoded)")
                break
            }
            blocks.append(block)
            bytes += payload.readableBytesView
            if block == 2 {
                for _ in 0..<50 { client.send(.ack(block: 1), port: port) }
                client.send(.ack(block: 60000), port: port)
                client.send([0, 4, 0, 2] + [UInt8](repeating: 0, count: 65000), port: port)
            } else {
                client.send(.ack(block: block), port: port)
            }
            if payload.readableBytes < 512 { break }
        }
        #expect(blocks == [1, 2, 3, 4, 5, 6])
        #expect(identical(bytes, tree.contents("size-2936.bin")))
        #expect(beforeProbe(client).isEmpty)
    }

    // MARK: - Asking again

    /// Waits until the server has suspended the transfer of `peer`'s request (its one
    /// retransmission is then in `peer`'s socket), and returns the transfer's port.
    private func suspended(_ peer: UDPPeer, _ file: String, count: Int = 1) throws -> Int {
        peer.send(.readRequest(Request(filename: Self.name(file), mode: .octet)), port: server.port)
        let first = try #require(peer.receive())
        guard case .success(.data(1, _)) = first.packet else {
            Issue.record("expected DATA 1, got \(first.packet)")
            return first.port
        }
        _ = try server.waitForLog(containing: "suspended: the client has not acknowledged", count: count)
        let again = try #require(peer.receive())
        #expect(again.port == first.port)
        #expect(beforeProbe(peer).isEmpty)
        return first.port
    }

    /// A burst of repeats during the suspension: the first packet once more (not once per
    /// copy), and the transfer is the client's again as soon as it acknowledges.
    @Test func repeatedRequestsDuringTheSuspension() throws {
        let client = try UDPPeer()
        let port = try suspended(client, "size-100003.bin")
        for _ in 0..<20 {
            client.send(.readRequest(Request(filename: Self.name("size-100003.bin"), mode: .octet)), port: server.port)
        }
        let answer = try #require(client.receive())
        #expect(answer.port == port)
        guard case .success(.data(1, let payload)) = answer.packet else {
            Issue.record("expected DATA 1 again, got \(answer.packet)")
            return
        }
        let more = beforeProbe(client)
        #expect(more.count <= 1, "the burst got \(more.count + 1) answers")
        client.send(.ack(block: 1), port: port)
        let rest = client.follow(tid: port, from: 2)
        #expect(rest.error == nil)
        #expect(identical(Array(payload.readableBytesView) + rest.bytes, tree.contents("size-100003.bin")))
        _ = try server.waitForLog(containing: "outcome=completed")
    }

    /// Another request from the port of a suspended transfer: that transfer ends, the new
    /// request is served at once.
    @Test func anotherRequestFromASuspendedTransfersPort() throws {
        let client = try UDPPeer()
        let old = try suspended(client, "size-100003.bin")
        client.send(.readRequest(Request(filename: Self.name("size-1469.bin"), mode: .octet)), port: server.port)
        let result = client.follow(ignoring: [old])
        #expect(result.error == nil)
        #expect(result.tid != old)
        #expect(identical(result.bytes, tree.contents("size-1469.bin")))
        _ = try server.waitForLog(containing: "outcome=superseded")
    }

    /// Another request from a port whose transfer has not been acknowledged yet (a new
    /// client on a reused port): the old transfer ends at once and sends nothing more; the
    /// new request gets its own file.
    @Test func anotherRequestFromAnUnprovenTransfersPort() throws {
        let client = try UDPPeer()
        client.send(.readRequest(Request(filename: Self.name("size-100003.bin"), mode: .octet)), port: server.port)
        let first = try #require(client.receive())
        client.send(.readRequest(Request(filename: Self.name("size-1469.bin"), mode: .octet)), port: server.port)
        let result = client.follow(ignoring: [first.port])
        #expect(result.error == nil)
        #expect(identical(result.bytes, tree.contents("size-1469.bin")))
        let line = try server.waitForLog(containing: "outcome=superseded")
        #expect(line.contains("file=size-100003.bin"))
        #expect(beforeProbe(client).allSatisfy { $0.port != first.port })
    }
}
