import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// A second request from the address and port of a running transfer, against the real
/// binary (docs/protocol.md, "Transfer IDs and repeated requests"): once the client has
/// acknowledged its transfer, a request from its port is a new transfer from a new transfer
/// ID, and the acknowledged one goes on — a client that restarted on the same port (PXELINUX
/// uses the same source ports on every boot) or a spoofer who guessed it cannot end it.
@Suite struct SamePortRequestTests {
    let tree: ServedTree

    init() throws {
        tree = try ServedTree()
    }

    private static func request(_ name: String, options: [TransferOption] = []) -> Packet {
        .readRequest(Request(filename: Array(name.utf8), mode: .octet, options: options))
    }

    /// Acknowledges the first `count` blocks of a plain lockstep transfer already asked for;
    /// returns their bytes and the transfer's port.
    private func acknowledge(_ count: Int, on peer: UDPPeer) throws -> (bytes: [UInt8], tid: Int) {
        var bytes: [UInt8] = []
        var tid: Int?
        var block: UInt16 = 1
        while block <= UInt16(count) {
            let answer = try #require(peer.receive())
            if tid == nil { tid = answer.port }
            guard answer.port == tid, case .success(.data(block, let payload)) = answer.packet else { continue }
            bytes += payload.readableBytesView
            peer.send(.ack(block: block), port: answer.port)
            block += 1
        }
        return (bytes, try #require(tid))
    }

    /// After 20 acknowledged blocks, a request for another file from the same port: the
    /// running transfer goes on to its end, byte-identical, and the new request is answered
    /// from another transfer ID with its own file — both at once over one client socket.
    @Test(arguments: [false, true])
    func anotherRequestIsServedBesideTheAcknowledgedTransfer(_ sameFileOtherOptions: Bool) throws {
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        peer.send(Self.request("size-100003.bin"), port: server.port)
        let (head, first) = try acknowledge(20, on: peer)
        let second =
            sameFileOtherOptions
            ? Self.request("size-100003.bin", options: [TransferOption(name: "blksize", value: "1024")])
            : Self.request("size-1469.bin")
        peer.send(second, port: server.port)

        var firstBytes = head
        var firstNext: UInt16 = 21
        var firstDone = false
        var secondBytes: [UInt8] = []
        var secondTID: Int?
        var secondNext: UInt16 = 1
        var secondBlockSize = 512
        var secondDone = false
        while !(firstDone && secondDone), let (decoded, port) = peer.receive() {
            if port == first {
                guard case .success(.data(let block, let payload)) = decoded else {
                    Issue.record("the first transfer sent \(decoded)")
                    return
                }
                if block == firstNext {
                    firstBytes += payload.readableBytesView
                    firstNext &+= 1
                    if payload.readableBytes < 512 { firstDone = true }
                }
                peer.send(.ack(block: block), port: port)
                continue
            }
            if secondTID == nil { secondTID = port }
            #expect(port == secondTID)
            switch decoded {
            case .success(.optionAcknowledgement(let options)):
                secondBlockSize = options.first { $0.key == "blksize" }.flatMap { Int($0.value) } ?? 512
                peer.send(.ack(block: 0), port: port)
            case .success(.data(let block, let payload)):
                if block == secondNext {
                    secondBytes += payload.readableBytesView
                    secondNext &+= 1
                    if payload.readableBytes < secondBlockSize { secondDone = true }
                }
                peer.send(.ack(block: block), port: port)
            default:
                Issue.record("the second transfer sent \(decoded)")
                return
            }
        }
        #expect(firstDone && secondDone)
        #expect(secondTID != first)
        #expect(identical(firstBytes, tree.contents("size-100003.bin")))
        #expect(identical(secondBytes, tree.contents(sameFileOtherOptions ? "size-100003.bin" : "size-1469.bin")))
        _ = try server.waitForLog(containing: "outcome=completed", count: 2)
        #expect(!server.logText.contains("outcome=superseded"))
    }

    /// A PXELINUX machine that reboots mid-transfer asks for the same file from the same
    /// port: it gets DATA 1 from a new transfer ID at once (not silence until the old transfer
    /// gives up), and its fetch completes; the old transfer, whose packets the rebooted client
    /// answers with ERROR 5, ends.
    @Test func theSameRequestFromARebootedClientStartsOver() throws {
        let server = try TFTPDProcess(root: tree.root)
        let peer = try UDPPeer()
        peer.send(Self.request("size-100003.bin"), port: server.port)
        let (_, old) = try acknowledge(20, on: peer)
        peer.send(Self.request("size-100003.bin"), port: server.port)
        var fresh: (bytes: [UInt8], tid: Int?, error: (TFTPErrorCode, String)?)?
        while fresh == nil, let (decoded, port) = peer.receive() {
            if port == old {
                // The rebooted client knows nothing of this transfer.
                peer.send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), port: port)
                continue
            }
            guard case .success(.data(1, let payload)) = decoded else {
                Issue.record("expected DATA 1 from a new transfer ID, got \(decoded)")
                return
            }
            peer.send(.ack(block: 1), port: port)
            let rest = peer.follow(ignoring: [old], tid: port, from: 2)
            fresh = (Array(payload.readableBytesView) + rest.bytes, port, rest.error)
        }
        let fetched = try #require(fresh)
        #expect(fetched.error == nil)
        #expect(fetched.tid != old)
        #expect(identical(fetched.bytes, tree.contents("size-100003.bin")))
        _ = try server.waitForLog(containing: "outcome=completed")
        _ = try server.waitForLog(containing: "outcome=client-error")
    }

    /// A PXELINUX-style reboot in the middle of a boot storm (100 transfers, 25 at once, by
    /// the bundled `tftp bench`): the rebooted machine's identical request from its old port
    /// gets its file from a new transfer ID, and not one transfer of the storm fails.
    @Test func aRebootInTheMiddleOfAStormCostsNoBoot() throws {
        let server = try TFTPDProcess(root: tree.root)
        let storm = try ExternalTool.start(
            [
                TFTPDProcess.binary("tftp"), "bench", "127.0.0.1:\(server.port)", "size-100003.bin", "-n", "100",
                "-c", "25", "--verify", tree.path("size-100003.bin"),
            ], seconds: 120)
        // In the middle: once a tenth of the storm has completed.
        _ = try server.waitForLog(containing: "outcome=completed", count: 10)
        let peer = try UDPPeer()
        peer.send(Self.request("size-100003.bin"), port: server.port)
        let (_, old) = try acknowledge(20, on: peer)
        peer.send(Self.request("size-100003.bin"), port: server.port)
        var fetched: [UInt8]?
        while fetched == nil, let (decoded, port) = peer.receive() {
            if port == old {
                peer.send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), port: port)
                continue
            }
            guard case .success(.data(1, let payload)) = decoded else { continue }
            peer.send(.ack(block: 1), port: port)
            let rest = peer.follow(ignoring: [old], tid: port, from: 2)
            #expect(rest.error == nil)
            fetched = Array(payload.readableBytesView) + rest.bytes
        }
        #expect(identical(try #require(fetched), tree.contents("size-100003.bin")))
        let result = storm.wait()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("transfers=100 ok=100 failed=0"))
        #expect(server.logText.split(separator: "\n").filter { $0.contains("outcome=completed") }.count >= 101)
    }

    /// A client port's request that reaches an engine thread other than the one running its
    /// transfer is judged by that thread (docs/architecture.md, "Engine threads that pay for
    /// themselves"). Two listen addresses and two threads: the kernel picks a thread for each
    /// datagram by its addresses and ports, so of eight client ports some ask the second
    /// address on the other thread. Each asks the first address for a large file and, before
    /// acknowledging it, the second for a small one: it moved on, and gets the small file at
    /// once from a new transfer ID; the old transfer ends as superseded.
    @Test func anotherRequestOnAnotherThreadSupersedesTheUnacknowledgedTransfer() throws {
        let server = try TFTPDProcess(root: tree.root, arguments: ["--threads", "2", "--listen", "127.0.0.2:0"])
        let second = try server.waitForLog(containing: "address=127.0.0.2:", count: 1)
        let match = try #require(second.firstMatch(of: #/address=127\.0\.0\.2:(\d+)/#))
        let secondPort = try #require(Int(match.1))
        for index in 1...8 {
            let peer = try UDPPeer()
            _ = try peer.bindLoopback()
            peer.send(Self.request("size-100003.bin"), port: server.port)
            let first = try #require(peer.receive())
            guard case .success(.data(1, _)) = first.packet else {
                Issue.record("client \(index): no DATA 1 of the large file: \(first.packet)")
                return
            }
            peer.send(Self.request("size-1.bin"), port: secondPort, host: "127.0.0.2")
            var small: [UInt8]?
            // The old transfer may resend its DATA 1 before the request reaches it.
            while small == nil, let (decoded, port) = peer.receive() {
                guard port != first.port else { continue }
                guard case .success(.data(1, let payload)) = decoded else {
                    Issue.record("client \(index): expected DATA 1 of the small file, got \(decoded)")
                    return
                }
                peer.send(.ack(block: 1), port: port, host: "127.0.0.2")
                small = Array(payload.readableBytesView)
            }
            #expect(small.map { identical($0, tree.contents("size-1.bin")) } == true, "client \(index)")
        }
        _ = try server.waitForLog(containing: "outcome=superseded", count: 8)
        _ = try server.waitForLog(containing: "outcome=completed", count: 8)
    }

    /// Single-port mode: two transfers to one address and port could not be told apart, so
    /// while the client's acknowledged transfer runs, another request from that port is
    /// ignored, and the transfer completes.
    @Test func singlePortIgnoresARequestBesideAnAcknowledgedTransfer() throws {
        let server = try TFTPDProcess(root: tree.root, arguments: ["--single-port"])
        let peer = try UDPPeer()
        peer.send(Self.request("size-100003.bin"), port: server.port)
        let (head, port) = try acknowledge(20, on: peer)
        #expect(port == server.port)
        peer.send(Self.request("size-1469.bin"), port: server.port)
        let rest = peer.follow(tid: server.port, from: 21)
        #expect(rest.error == nil)
        #expect(identical(head + rest.bytes, tree.contents("size-100003.bin")))
        _ = try server.waitForLog(containing: "request ignored: single-port mode")
    }
}
