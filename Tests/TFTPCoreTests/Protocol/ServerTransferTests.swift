import NIOCore
import Testing

@testable import TFTPCore

@Suite struct ServerTransferTests {
    private static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func at(_ ms: Int64) -> NIODeadline { Self.t0 + .milliseconds(ms) }

    private func machine(
        _ options: [(String, String)] = [],
        mode: TransferMode = .octet,
        configuration: ServerTransfer.Configuration = .init()
    ) -> ServerTransfer {
        let request = Request(
            filename: Array("f".utf8),
            mode: mode,
            options: options.map { TransferOption(name: $0.0, value: $0.1) }
        )
        return ServerTransfer(request: request, configuration: configuration)
    }

    /// The blocks of a window as (wire number, offset, length).
    private func blocks(_ action: ServerTransfer.Action) -> [(UInt16, Int64, Int)] {
        guard case .sendWindow(let window, _) = action else { return [] }
        return (0..<window.count).map { window.block($0) }.map { ($0.wire, $0.offset, $0.length) }
    }

    private func firstBlock(_ action: ServerTransfer.Action) -> UInt16? { blocks(action).first?.0 }

    /// The window and deadline of a `sendWindow` action, or nil for any other action.
    private func sentWindow(_ action: ServerTransfer.Action) -> (ServerTransfer.DataWindow, NIODeadline)? {
        if case .sendWindow(let window, let deadline) = action { return (window, deadline) }
        return nil
    }

    // MARK: - Lockstep at the edge sizes

    /// Drives a lockstep transfer to its end, acknowledging every block; returns the
    /// payload lengths sent, in order.
    private func lockstep(size: Int64, blockSize: Int? = nil) -> [Int] {
        var server = machine(blockSize.map { [("blksize", String($0))] } ?? [])
        var action = server.start(content: .success(size), now: at(0))
        if case .send(.optionAcknowledgement, _) = action {
            action = server.received(.ack(block: 0), now: at(1))
        }
        var lengths: [Int] = []
        var guardCount = 0
        while case .sendWindow(let window, _) = action, guardCount < 200_000 {
            guardCount += 1
            #expect(window.count == 1)
            let block = window.block(0)
            lengths.append(block.length)
            action = server.received(.ack(block: block.wire), now: at(2))
        }
        #expect(action == .finish(.completed, send: nil))
        return lengths
    }

    @Test func emptyFileIsOneEmptyData() {
        #expect(lockstep(size: 0) == [0])
    }

    @Test(arguments: [1, 511, 512, 513, 1024, 1500])
    func sizesAround512(_ size: Int) {
        let lengths = lockstep(size: Int64(size))
        #expect(lengths.reduce(0, +) == size)
        #expect(lengths.dropLast().allSatisfy { $0 == 512 })
        #expect(lengths.last! < 512)
        #expect(lengths.count == size / 512 + 1)
    }

    @Test(arguments: [1467, 1468, 1469, 2936])
    func sizesAroundNegotiatedBlksize(_ size: Int) {
        let lengths = lockstep(size: Int64(size), blockSize: 1468)
        #expect(lengths.reduce(0, +) == size)
        #expect(lengths.count == size / 1468 + 1)
        #expect(lengths.last! < 1468)
    }

    /// docs/protocol.md, "Block numbers": 65535 × blksize + 1 bytes crosses the wrap: block 65536 goes
    /// out as 0 and the last block (65536 + 1) as 1.
    @Test func rolloverToZero() {
        var server = machine([("blksize", "8")])
        let size = Int64(65535 * 8 + 1 + 8)
        var action = server.start(content: .success(size), now: at(0))
        action = server.received(.ack(block: 0), now: at(1))
        var wires: [UInt16] = []
        while case .sendWindow(let window, _) = action {
            let block = window.block(0)
            wires.append(block.wire)
            action = server.received(.ack(block: block.wire), now: at(2))
        }
        #expect(action == .finish(.completed, send: nil))
        #expect(wires.count == 65537)
        #expect(wires[65534] == 65535)
        #expect(wires[65535] == 0)
        #expect(wires[65536] == 1)
    }

    // MARK: - OACK

    /// RFC 2347 §2: no options asked, no OACK: DATA 1 answers the RRQ.
    @Test func withoutOptionsDataOneComesFirst() {
        var server = machine()
        let action = server.start(content: .success(10), now: at(0))
        #expect(firstBlock(action) == 1)
    }

    @Test func unknownOptionsOnlyMeanNoOACK() {
        var server = machine([("foo", "bar")])
        #expect(firstBlock(server.start(content: .success(10), now: at(0))) == 1)
    }

    @Test func oackThenDataAfterAckZero() {
        var server = machine([("blksize", "1468"), ("tsize", "0")])
        let start = server.start(content: .success(3000), now: at(0))
        #expect(
            start
                == .send(
                    .optionAcknowledgement([.init(name: "blksize", value: "1468"), .init(name: "tsize", value: "3000")]
                    ),
                    deadline: at(1000)
                )
        )
        // Only ACK 0 moves on.
        #expect(server.received(.ack(block: 5), now: at(1)) == .wait)
        let data = server.received(.ack(block: 0), now: at(2))
        #expect(blocks(data).map(\.0) == [1])
        #expect(blocks(data).map(\.2) == [1468])
    }

    /// The OACK is retransmitted once when ACK 0 does not come; then the machine falls
    /// silent and suspends, and ends unacknowledged when the suspension is over.
    @Test func oackIsRetransmittedOnceThenSuspended() {
        let policy = RetransmitPolicy(initialTimeout: .seconds(1), maximumTimeout: .seconds(4), maxRetries: 3)
        var server = machine([("tsize", "0")], configuration: .init(retransmit: policy, suspension: .seconds(90)))
        guard case .send(let oack, let first) = server.start(content: .success(1), now: at(0)) else {
            Issue.record("no OACK")
            return
        }
        #expect(first == at(1000))
        // A timer that fires early is simply re-armed (lazy timers in the driver).
        #expect(server.timerFired(now: at(500)) == .armTimer(at(1000)))
        #expect(server.timerFired(now: at(1000)) == .send(oack, deadline: at(3000)))
        #expect(server.timerFired(now: at(3000)) == .suspend(until: at(93000)))
        #expect(server.isSuspended)
        #expect(server.timerFired(now: at(50000)) == .armTimer(at(93000)))
        #expect(server.timerFired(now: at(93000)) == .finish(.unacknowledged, send: nil))
        #expect(server.statistics.retransmits == 1)
        #expect(!server.peerProven)
    }

    // MARK: - Before the client has proved its address (reflection bound)

    /// Every packet a machine sends to a client that never answers, in order, until it
    /// suspends; with `repeats`, the request arrives again at those times.
    private func unanswered(
        _ options: [(String, String)], size: Int64 = 4 << 20, repeats: [Int64] = []
    ) -> (sent: [Int64], suspendedAt: Int64?) {
        var server = machine(options)
        var sent: [Int64] = []
        var next: NIODeadline?
        func note(_ action: ServerTransfer.Action, _ time: Int64) {
            switch action {
            case .send(_, let deadline), .sendWindow(_, let deadline):
                if case .sendWindow(let window, _) = action { #expect(window.count == 1) }
                sent.append(time)
                next = deadline
            case .armTimer(let deadline): next = deadline
            default: break
            }
        }
        note(server.start(content: .success(size), now: at(0)), 0)
        var pending = repeats
        for _ in 0..<100 {
            let timerAt = Int64((next!.uptimeNanoseconds - Self.t0.uptimeNanoseconds) / 1_000_000)
            if let repeatAt = pending.first, repeatAt < timerAt {
                pending.removeFirst()
                note(server.received(.readRequest(server.request), now: at(repeatAt)), repeatAt)
                continue
            }
            let action = server.timerFired(now: next!)
            if case .suspend = action { return (sent, timerAt) }
            note(action, timerAt)
        }
        return (sent, nil)
    }

    /// A plain RRQ nobody acknowledges: DATA 1 and one retransmission, then silence; the
    /// slot goes back 3 s after the request (1 s, then the doubled 2 s).
    @Test func plainRequestNeverAcknowledgedGetsTwoPackets() {
        let (sent, suspendedAt) = unanswered([])
        #expect(sent == [0, 1000])
        #expect(suspendedAt == 3000)
    }

    /// With options, the OACK and one retransmission, never a window.
    @Test func optionsRequestNeverAcknowledgedGetsTwoOACKs() {
        let (sent, suspendedAt) = unanswered([("blksize", "65464"), ("windowsize", "64"), ("tsize", "0")])
        #expect(sent == [0, 1000])
        #expect(suspendedAt == 3000)
    }

    /// A client's timeout sets the interval, before and after the proof alike.
    @Test func clientTimeoutSpacesTheUnprovenRetransmission() {
        let (sent, suspendedAt) = unanswered([("timeout", "5")])
        #expect(sent == [0, 5000])
        #expect(suspendedAt == 10000)
    }

    /// Each repeat of the request sends the first packet once more and restarts the wait;
    /// a copy within the minimum timeout of the last send is the network's duplicate.
    @Test func repeatedRequestsEachGetTheFirstPacketOnce() {
        let (sent, suspendedAt) = unanswered([], repeats: [500, 520, 1300, 2000])
        // 500: answered; 520: the network's duplicate; 1300 and 2000: answered, each
        // restarting the 1 s wait; 3000: the timer's one retransmission; then 2 s of silence.
        #expect(sent == [0, 500, 1300, 2000, 3000])
        #expect(suspendedAt == 5000)
    }

    /// A repeat that asks for something else, or comes after the client has acknowledged
    /// something, is ignored.
    @Test func otherOrLateRepeatsAreIgnored() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        let other = Packet.readRequest(Request(filename: Array("g".utf8), mode: .octet))
        #expect(server.received(other, now: at(500)) == .wait)
        _ = server.received(.ack(block: 1), now: at(600))
        #expect(server.peerProven)
        #expect(server.received(.readRequest(server.request), now: at(700)) == .wait)
    }

    /// What another request from the client's address and port means, at each stage
    /// (docs/protocol.md, "Transfer IDs and repeated requests").
    @Test func anotherRequestFromTheSamePortIsJudgedByWhatTheClientAcknowledged() {
        let other = Request(filename: Array("g".utf8), mode: .octet)
        // Without options: DATA 1 is the first packet.
        var plain = machine()
        _ = plain.start(content: .success(5000), now: at(0))
        #expect(plain.judge(plain.request) == .repeated)
        #expect(plain.judge(other) == .supersedes)
        _ = plain.received(.ack(block: 1), now: at(10))
        #expect(plain.judge(plain.request) == .lateCopy)
        #expect(plain.judge(other) == .beside)
        _ = plain.received(.ack(block: 2), now: at(20))
        #expect(plain.judge(plain.request) == .beside)
        // With options: the OACK is the first packet, ACK 0 its acknowledgement.
        var negotiated = machine([("blksize", "1024"), ("tsize", "0")])
        _ = negotiated.start(content: .success(5000), now: at(0))
        #expect(negotiated.judge(negotiated.request) == .repeated)
        var otherOptions = negotiated.request
        otherOptions.options.removeLast()
        #expect(negotiated.judge(otherOptions) == .supersedes)
        _ = negotiated.received(.ack(block: 0), now: at(10))
        #expect(negotiated.judge(negotiated.request) == .lateCopy)
        #expect(negotiated.judge(otherOptions) == .beside)
        _ = negotiated.received(.ack(block: 1), now: at(20))
        #expect(negotiated.judge(negotiated.request) == .beside)
    }

    /// Once proven, the transfer has the full retry budget again.
    @Test func provenTransferKeepsEveryRetry() {
        let policy = RetransmitPolicy(initialTimeout: .milliseconds(200), maxRetries: 4)
        var server = machine(configuration: .init(retransmit: policy))
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.received(.ack(block: 1), now: at(10))
        var retransmissions = 0
        var now = 10
        while retransmissions < 10 {
            now += 5000
            guard case .sendWindow = server.timerFired(now: at(Int64(now))) else { break }
            retransmissions += 1
        }
        #expect(retransmissions == 4)
        #expect(server.outcome == .timedOut)
    }

    /// A suspended transfer resumes on the client's late ACK of the first packet (curl
    /// re-sends its ACK after 72 s): DATA 1's ACK brings DATA 2, the OACK's brings DATA 1.
    @Test(arguments: [false, true])
    func lateAcknowledgementResumes(_ withOptions: Bool) {
        var server = machine(withOptions ? [("blksize", "1024")] : [])
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.timerFired(now: at(1000))
        #expect(server.timerFired(now: at(3000)) == .suspend(until: at(93000)))
        #expect(server.received(.ack(block: 7), now: at(40000)) == .wait)
        #expect(server.isSuspended)
        let resumed = server.received(.ack(block: withOptions ? 0 : 1), now: at(72000))
        #expect(blocks(resumed).map(\.0) == [withOptions ? 1 : 2])
        #expect(!server.isSuspended)
        #expect(server.peerProven)
    }

    /// A suspended transfer's client asks again: the first packet goes once more, then the
    /// wait and the suspension again (no more timer retransmissions for it).
    @Test func repeatWhileSuspendedSendsTheFirstPacketOnce() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.timerFired(now: at(1000))
        _ = server.timerFired(now: at(3000))
        let again = server.received(.readRequest(server.request), now: at(10000))
        #expect(blocks(again).map(\.0) == [1])
        #expect(!server.isSuspended)
        #expect(server.timerFired(now: at(12000)) == .suspend(until: at(102000)))
    }

    /// Suspended: an ERROR ends it (a probe if it asked tsize), shutdown and the driver end
    /// it without a packet, and nothing else gets an answer.
    @Test func suspendedEndings() {
        func suspended(_ options: [(String, String)] = []) -> ServerTransfer {
            var server = machine(options)
            _ = server.start(content: .success(5000), now: at(0))
            _ = server.timerFired(now: at(1000))
            _ = server.timerFired(now: at(3000))
            return server
        }
        var probe = suspended([("tsize", "0")])
        #expect(
            probe.received(.error(code: .optionRefused, message: "x"), now: at(4000)) == .finish(.sizeProbe, send: nil))
        var plain = suspended()
        #expect(plain.received(.data(block: 1, payload: ByteBuffer()), now: at(4000)) == .wait)
        #expect(plain.beginShutdown(grace: .seconds(5), now: at(4000)) == .finish(.aborted, send: nil))
        var ended = suspended()
        #expect(ended.endSuspension() == .finish(.unacknowledged, send: nil))
        var aborted = suspended()
        #expect(aborted.abort() == .finish(.aborted, send: nil))
    }

    /// docs/protocol.md, "Size probes": EDK2 probes with tsize and ends with ERROR 8 after the OACK: a probe.
    @Test func errorAfterOACKWithTsizeIsAProbe() {
        var server = machine([("tsize", "0"), ("blksize", "1468"), ("windowsize", "4")])
        _ = server.start(content: .success(123), now: at(0))
        let end = server.received(.error(code: .optionRefused, message: "User aborted the transfer"), now: at(1))
        #expect(end == .finish(.sizeProbe, send: nil))
    }

    @Test func errorAfterOACKWithoutTsizeIsAClientError() {
        var server = machine([("blksize", "1468")])
        _ = server.start(content: .success(123), now: at(0))
        let end = server.received(.error(code: .optionRefused, message: "no"), now: at(1))
        #expect(end == .finish(.peerError(code: .optionRefused, message: "no"), send: nil))
    }

    // MARK: - Refusals

    @Test func contentErrorsAreRefusedBeforeAnyOACK() {
        var server = machine([("tsize", "0")])
        let action = server.start(content: .failure(.notFound), now: at(0))
        #expect(
            action
                == .finish(
                    .refused(code: .fileNotFound, reason: "not found"),
                    send: .error(code: .fileNotFound, message: "File not found")))
    }

    @Test func mailModeIsRefused() {
        var server = machine(mode: .mail)
        guard
            case .finish(.refused(.illegalOperation, _), .error(.illegalOperation, _)?) = server.start(
                content: .success(1), now: at(0))
        else {
            Issue.record("mail mode not refused")
            return
        }
    }

    // MARK: - Retransmission and duplicates

    /// RFC 1123 §4.2.3.1 (Sorcerer's Apprentice): a duplicate ACK never triggers a resend.
    @Test func duplicateAckDoesNotResend() {
        var server = machine()
        _ = server.start(content: .success(2000), now: at(0))
        #expect(firstBlock(server.received(.ack(block: 1), now: at(1))) == 2)
        #expect(server.received(.ack(block: 1), now: at(2)) == .wait)
        #expect(server.received(.ack(block: 1), now: at(3)) == .wait)
        #expect(firstBlock(server.received(.ack(block: 2), now: at(4))) == 3)
    }

    @Test func staleAndFutureAcksAreIgnored() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.received(.ack(block: 1), now: at(1))
        #expect(server.received(.ack(block: 9), now: at(2)) == .wait)
        #expect(server.received(.ack(block: 60000), now: at(2)) == .wait)
    }

    @Test func timeoutResendsTheSameBlockWithBackoff() throws {
        let policy = RetransmitPolicy(initialTimeout: .milliseconds(200), maximumTimeout: .seconds(4), maxRetries: 2)
        var server = machine([("blksize", "512")], configuration: .init(retransmit: policy))
        _ = server.start(content: .success(1000), now: at(0))
        // ACK 0 after 200 ms: the round trip is measured, and it is not small.
        let first = server.received(.ack(block: 0), now: at(200))
        #expect(blocks(first).map(\.0) == [1])
        let (window, deadline) = try #require(sentWindow(first))
        let interval = deadline - at(200)
        #expect(server.timerFired(now: at(200) + interval) == .sendWindow(window, deadline: at(200) + interval * 3))
        #expect(
            server.timerFired(now: at(200) + interval * 3) == .sendWindow(window, deadline: at(200) + interval * 7))
        #expect(server.timerFired(now: at(200) + interval * 7) == .finish(.timedOut, send: nil))
        #expect(server.statistics.retransmits == 2)
    }

    /// RFC 2349: the client's timeout is the retransmission interval, not doubled.
    @Test func clientTimeoutIsUsedAsIs() throws {
        var server = machine([("timeout", "3")])
        _ = server.start(content: .success(100), now: at(0))
        let (window, deadline) = try #require(sentWindow(server.received(.ack(block: 0), now: at(1))))
        #expect(deadline == at(3001))
        #expect(server.timerFired(now: at(3001)) == .sendWindow(window, deadline: at(6001)))
    }

    /// The round trip is measured: after a quick ACK the timeout falls to the floor.
    @Test func timeoutAdaptsToTheRoundTrip() throws {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        let (_, deadline) = try #require(sentWindow(server.received(.ack(block: 1), now: at(1))))
        #expect(deadline == at(1) + .milliseconds(50))
    }

    // MARK: - Windows (RFC 7440)

    @Test func windowIsSentAsOneBurst() {
        var server = machine([("windowsize", "4")])
        _ = server.start(content: .success(512 * 10), now: at(0))
        let first = server.received(.ack(block: 0), now: at(1))
        #expect(blocks(first).map(\.0) == [1, 2, 3, 4])
        #expect(blocks(first).map(\.1) == [0, 512, 1024, 1536])
        let second = server.received(.ack(block: 4), now: at(2))
        #expect(blocks(second).map(\.0) == [5, 6, 7, 8])
        let last = server.received(.ack(block: 8), now: at(3))
        // 5120 bytes: blocks 9, 10 full and an empty block 11.
        #expect(blocks(last).map(\.0) == [9, 10, 11])
        #expect(blocks(last).map(\.2) == [512, 512, 0])
        #expect(server.received(.ack(block: 11), now: at(4)) == .finish(.completed, send: nil))
    }

    /// RFC 7440 §4: an ACK inside the window means "got up to here": go on from there.
    @Test func midWindowAckContinuesFromTheNextBlock() {
        var server = machine([("windowsize", "8")])
        _ = server.start(content: .success(512 * 20), now: at(0))
        _ = server.received(.ack(block: 0), now: at(1))
        let resumed = server.received(.ack(block: 3), now: at(2))
        #expect(blocks(resumed).map(\.0) == [4, 5, 6, 7, 8, 9, 10, 11])
        // The repeated ACK 3 (the client saw more blocks past its gap) changes nothing.
        #expect(server.received(.ack(block: 3), now: at(3)) == .wait)
    }

    @Test func lostWindowIsResentFromTheFirstUnacknowledgedBlock() {
        var server = machine([("windowsize", "4")])
        _ = server.start(content: .success(512 * 10), now: at(0))
        _ = server.received(.ack(block: 0), now: at(1))
        _ = server.received(.ack(block: 4), now: at(2))
        guard case .sendWindow(_, let deadline) = server.received(.ack(block: 4), now: at(2)) else {
            // duplicate ACK → wait; fire the timer at the deadline of the second window
            let resent = server.timerFired(now: at(10_000))
            #expect(blocks(resent).map(\.0) == [5, 6, 7, 8])
            return
        }
        Issue.record("duplicate ACK resent a window (deadline \(deadline))")
    }

    @Test func windowsAcrossTheWrap() {
        var server = machine([("blksize", "8"), ("windowsize", "64")])
        let size = Int64(70_000 * 8)
        _ = server.start(content: .success(size), now: at(0))
        var action = server.received(.ack(block: 0), now: at(1))
        var sent: UInt64 = 0
        while case .sendWindow(let window, _) = action {
            sent += UInt64(window.count)
            action = server.received(.ack(block: window.block(window.count - 1).wire), now: at(2))
        }
        #expect(action == .finish(.completed, send: nil))
        #expect(sent == 70_001)
    }

    /// Until the client has acknowledged something, no window goes out: only the OACK.
    @Test func noWindowBeforeTheClientIsProven() {
        var server = machine([("blksize", "65464"), ("windowsize", "64")])
        let start = server.start(content: .success(100 << 20), now: at(0))
        guard case .send(.optionAcknowledgement, _) = start else {
            Issue.record("expected an OACK first")
            return
        }
        #expect(!server.peerProven)
        guard case .send(.optionAcknowledgement, _) = server.timerFired(now: at(5000)) else {
            Issue.record("expected the OACK again")
            return
        }
    }

    // MARK: - Errors and strangers

    @Test func clientErrorEndsTheTransferUnanswered() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        let end = server.received(.error(code: .diskFull, message: "full"), now: at(1))
        #expect(end == .finish(.peerError(code: .diskFull, message: "full"), send: nil))
        #expect(server.received(.ack(block: 1), now: at(2)) == .wait)
        #expect(server.timerFired(now: at(5000)) == .wait)
    }

    /// A retransmitted RRQ reaches the running transfer (the engine routes it there): before
    /// the client has acknowledged anything it gets the first packet again, unless it comes
    /// within the minimum timeout of the last send (a duplicate in the network).
    @Test(arguments: [[], [("blksize", "1024")]])
    func aRepeatedRequestGetsTheFirstPacketAgain(_ options: [(String, String)]) {
        var server = machine(options)
        let first = server.start(content: .success(5000), now: at(0))
        let repeated = Packet.readRequest(server.request)
        #expect(server.received(repeated, now: at(1)) == .wait)
        let again = server.received(repeated, now: at(300))
        switch (first, again) {
        case (.send(let a, _), .send(let b, _)): #expect(a == b)
        case (.sendWindow(let a, _), .sendWindow(let b, _)): #expect(a == b)
        default: Issue.record("expected the first packet again, got \(again)")
        }
        #expect(server.statistics.retransmits == 1)
    }

    @Test(arguments: [
        Packet.data(block: 1, payload: ByteBuffer()),
        .writeRequest(Request(filename: [1], mode: .octet)),
        .optionAcknowledgement([]),
    ])
    func packetsWithNoPlaceEndTheTransferWithError4(_ packet: Packet) {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        let end = server.received(packet, now: at(1))
        #expect(
            end
                == .finish(
                    .protocolViolation(packet.opcode),
                    send: .error(code: .illegalOperation, message: "Illegal TFTP operation")))
    }

    @Test func malformedDatagramsFromTheClientAreIgnored() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        #expect(server.receivedMalformed(now: at(1)) == .wait)
        #expect(firstBlock(server.received(.ack(block: 1), now: at(2))) == 2)
    }

    /// docs/protocol.md, "Who gets an answer": ERROR 5 to a stranger; never an answer to an ERROR.
    @Test func strangers() {
        #expect(
            ServerTransfer.replyToStranger(.success(.ack(block: 1)))
                == .error(code: .unknownTransferID, message: "Unknown transfer ID"))
        #expect(ServerTransfer.replyToStranger(.success(.data(block: 1, payload: ByteBuffer()))) != nil)
        #expect(ServerTransfer.replyToStranger(.success(.error(code: .unknownTransferID, message: ""))) == nil)
        #expect(ServerTransfer.replyToStranger(.failure(.tooShort)) == nil)
    }

    @Test func abortSendsAnErrorOnlyOnce() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.received(.ack(block: 1), now: at(1))
        #expect(server.abort() == .finish(.aborted, send: .error(code: .notDefined, message: "Server shutting down")))
        #expect(server.abort() == .wait)
    }

    @Test func readFailureEndsWithAnError() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        #expect(
            server.contentFailed(.io(errno: 5))
                == .finish(.readFailed(.io(errno: 5)), send: .error(code: .notDefined, message: "Read error")))
    }

    // MARK: - Shutdown

    /// SIGTERM: the transfer goes on within the grace period and is ended with ERROR 0 at
    /// its end; every deadline the machine hands out until then is the earlier of the two.
    @Test func shutdownLetsTheTransferGoOnThenEndsIt() {
        var server = machine()
        _ = server.start(content: .success(512 * 100), now: at(0))
        #expect(server.beginShutdown(grace: .milliseconds(500), now: at(10)) == .armTimer(at(510)))
        guard case .sendWindow(let window, let deadline) = server.received(.ack(block: 1), now: at(20)) else {
            Issue.record("no DATA 2 during the grace period")
            return
        }
        #expect(window.first == 2)
        #expect(deadline <= at(510))
        // DATA 2 is not acknowledged: it is resent within the grace period.
        guard case .sendWindow(let again, let next) = server.timerFired(now: at(509)) else {
            Issue.record("no retransmission during the grace period")
            return
        }
        #expect(again.first == 2)
        #expect(next == at(510))
        #expect(
            server.timerFired(now: at(510))
                == .finish(.aborted, send: .error(code: .notDefined, message: "Server shutting down")))
    }

    /// A transfer that completes within the grace period completes.
    @Test func shutdownDoesNotCutAFinishingTransfer() {
        var server = machine()
        _ = server.start(content: .success(100), now: at(0))
        _ = server.beginShutdown(grace: .seconds(10), now: at(1))
        #expect(server.received(.ack(block: 1), now: at(2)) == .finish(.completed, send: nil))
        #expect(server.beginShutdown(grace: .seconds(10), now: at(3)) == .wait)
    }

    /// A retransmission due before the grace ends still goes out; asking again never
    /// extends the deadline; zero grace ends the transfer at once.
    @Test func shutdownKeepsRetransmittingAndNeverExtends() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        _ = server.received(.ack(block: 1), now: at(1))
        _ = server.beginShutdown(grace: .seconds(5), now: at(1))
        #expect(server.beginShutdown(grace: .seconds(60), now: at(2)) == .wait)
        guard case .sendWindow(let window, _) = server.timerFired(now: at(1000)) else {
            Issue.record("no retransmission during the grace period")
            return
        }
        #expect(window.first == 2)
        #expect(
            server.beginShutdown(grace: .zero, now: at(1001))
                == .finish(.aborted, send: .error(code: .notDefined, message: "Server shutting down")))
    }

    @Test func shutdownBeforeTheStartEndsWithoutAPacket() {
        var server = machine()
        #expect(server.beginShutdown(grace: .seconds(1), now: at(0)) == .finish(.aborted, send: nil))
    }

    /// A socket that fails under the transfer ends it; nothing can be sent on it.
    @Test func socketFailureEndsWithoutAPacket() {
        var server = machine()
        _ = server.start(content: .success(5000), now: at(0))
        #expect(server.socketFailed() == .finish(.aborted, send: nil))
        #expect(server.socketFailed() == .wait)
        #expect(server.timerFired(now: at(5000)) == .wait)
    }
}
