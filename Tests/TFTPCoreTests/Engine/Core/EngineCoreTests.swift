import NIOCore
import Testing

@testable import TFTPCore

/// The engine's rules, one test each, on the pure core (docs/architecture.md, "The engine
/// core"): the listening port, admission, repeats and superseding requests, draining before
/// judging, suspension and its cap, single-port routing, timers, socket reuse by outcome and
/// shutdown. Time is virtual; nothing here touches a socket.
@Suite struct EngineCoreTests {
    private static let client = TestAddress("client", 1000)
    private static let stranger = TestAddress("intruder", 666)

    private static func rrq(_ name: String = "file", options: [TransferOption] = []) -> Packet {
        .readRequest(Request(filename: Array(name.utf8), mode: .octet, options: options))
    }

    private static let tsize = [TransferOption(name: "tsize", value: "0")]

    /// Starts a plain transfer for `client` and returns its socket.
    private func started(_ harness: inout CoreHarness, _ client: TestAddress = client, name: String = "file") throws
        -> Int32
    {
        let effects = harness.listener(Self.rrq(name), from: client)
        #expect(effects.openings.count == 1)
        #expect(effects.windows == [1])
        return try #require(harness.socket(of: client))
    }

    // MARK: - The listening port

    @Test func requestIsAdmittedOpenedAndAnswered() throws {
        var harness = CoreHarness()
        let effects = harness.listener(Self.rrq(), from: Self.client)
        let opening = try #require(effects.openings.first)
        #expect(
            opening
                == TransferOpening(
                    client: Self.client, request: Request(filename: Array("file".utf8), mode: .octet), listener: 0,
                    socket: nil))
        #expect(effects.windows == [1])
        #expect(harness.admission.running == 1)
        #expect(harness.core.count == 1)
    }

    @Test func writeAndMalformedRequestsAreRefusedOthersIgnored() {
        var harness = CoreHarness()
        #expect(
            harness.listener(.writeRequest(Request(filename: [65], mode: .octet)), from: Self.client).refusals == [
                .writeRequest
            ])
        #expect(
            harness.listener(.failure(.unterminatedMode), from: Self.client).refusals == [.malformed(.unterminatedMode)]
        )
        for packet: Packet in [
            .ack(block: 1), .data(block: 1, payload: ByteBuffer()), .error(code: .notDefined, message: "x"),
        ] {
            #expect(harness.listener(packet, from: Self.client) == [.note(.notARequest, client: Self.client)])
        }
        #expect(
            harness.listener(.failure(.unknownOpcode(9)), from: Self.client) == [
                .note(.notARequest, client: Self.client)
            ])
        #expect(harness.core.count == 0)
        #expect(harness.admission.running == 0)
    }

    @Test func limitsRefuseWithTheirReason() {
        var harness = CoreHarness(maxTransfers: 3, maxPerClient: 2)
        for port in 1...2 { harness.listener(Self.rrq(), from: TestAddress("a", port)) }
        #expect(harness.listener(Self.rrq(), from: TestAddress("a", 3)).refusals == [.perClientLimit])
        harness.listener(Self.rrq(), from: TestAddress("b", 1))
        #expect(harness.listener(Self.rrq(), from: TestAddress("c", 1)).refusals == [.busy])
        #expect(harness.core.count == 3)
    }

    /// No socket for the transfer: refused from the listener, its place given back.
    @Test func aSocketThatCannotBeBoundRefusesTheRequest() {
        var harness = CoreHarness()
        harness.bindFails = true
        let effects = harness.listener(Self.rrq(), from: Self.client)
        #expect(effects.refusals == [.noTransferPort])
        #expect(harness.core.count == 0)
        #expect(harness.admission.running == 0)
        #expect(harness.admission.released == [Self.client])
    }

    /// Content that cannot be served: the machine refuses from the transfer's own socket, and
    /// that socket may serve again.
    @Test func refusedContentEndsAtOnceWithItsError() throws {
        var harness = CoreHarness()
        harness.content = .failure(.notFound)
        let effects = harness.listener(Self.rrq(), from: Self.client)
        let ending = try #require(effects.endings.first)
        #expect(ending.outcome == .refused(code: .fileNotFound, reason: ContentError.notFound.description))
        #expect(ending.finalPacket == .error(code: .fileNotFound, message: ContentError.notFound.tftpError.message))
        #expect(ending.pooled)
        #expect(harness.admission.running == 0)
        #expect(harness.core.count == 0)
    }

    // MARK: - Repeats and superseding requests

    /// A client port's running transfer is read before its request is judged.
    @Test func aRunningTransfersSocketIsDrainedBeforeItsClientsRequest() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        let effects = harness.listener(Self.rrq(), from: Self.client)
        let slot = try #require(harness.slot(of: Self.client))
        #expect(effects.first == .drain(slot: slot))
        #expect(harness.socket(of: Self.client) == socket)
    }

    /// The last ACK and the next request of a client that reused its port at once: the ACK
    /// waits on the old transfer's socket, so the old transfer completes first and the
    /// request starts a new one, instead of being taken for a repeat.
    @Test func drainingLetsTheLastAckCompleteTheOldTransferFirst() throws {
        var harness = CoreHarness()
        harness.contentSize = 100
        let socket = try started(&harness)
        harness.waiting[socket] = [(.ack(block: 1), Self.client)]
        let effects = harness.listener(Self.rrq(), from: Self.client)
        #expect(effects.endings.map(\.outcome) == [.completed])
        #expect(effects.openings.count == 1)
        #expect(effects.windows == [1])
        #expect(harness.core.count == 1)
    }

    /// The same request again before the client acknowledged anything: its first answer was
    /// lost, so the first packet goes again, once per repeat; a copy within the minimum
    /// timeout is the network's duplicate. Never a second transfer.
    @Test func aRepeatGetsTheFirstPacketAgain() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        #expect(harness.listener(Self.rrq(), from: Self.client).windows == [])
        harness.advance(.milliseconds(100))
        let again = harness.listener(Self.rrq(), from: Self.client)
        #expect(again.windows == [1])
        #expect(again.openings.isEmpty)
        #expect(harness.socket(of: Self.client) == socket)
        #expect(harness.core.count == 1)
    }

    /// Once the client has acknowledged only the first packet, the same request is the
    /// network's late copy of the one that started the transfer: nothing happens.
    @Test func aRequestAgainAfterTheFirstAckIsALateCopy() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        #expect(harness.transfer(.ack(block: 1), to: socket, from: Self.client).windows == [2])
        harness.advance(.milliseconds(100))
        let effects = harness.listener(Self.rrq(), from: Self.client)
        #expect(effects.windows == [])
        #expect(effects.openings.isEmpty)
        #expect(effects.endings.isEmpty)
        #expect(harness.socket(of: Self.client) == socket)
        #expect(harness.core.count == 1)
    }

    /// Another request from the port of a transfer nobody acknowledged: the client moved on
    /// (a new process on a reused port). The old transfer ends without a word and the new
    /// request is served at once, so the client never takes the old transfer's first packet
    /// for its answer.
    @Test func anotherRequestFromTheSamePortSupersedesAnUnacknowledgedTransfer() throws {
        var harness = CoreHarness()
        let old = try started(&harness, name: "big")
        let effects = harness.listener(Self.rrq("small"), from: Self.client)
        let ending = try #require(effects.endings.first)
        #expect(ending.outcome == .superseded)
        #expect(ending.finalPacket == nil)
        #expect(ending.request.filename == Array("big".utf8))
        #expect(effects.openings.map(\.request.filename) == [Array("small".utf8)])
        #expect(effects.windows == [1])
        #expect(harness.socket(of: Self.client) != old)
        #expect(harness.admission.running == 1)
    }

    /// A request from the port of a transfer its client acknowledged never ends that
    /// transfer: it is a new transfer beside it, from another socket (RFC 1350: a transfer ID
    /// per request). Another file, the same file with other options, or the same request
    /// once the client is past the first packet (a PXELINUX machine that rebooted uses the
    /// same ports again).
    @Test(arguments: [
        ("other", [TransferOption]()), ("file", tsize), ("file", [TransferOption]()),
    ])
    func aRequestBesideAnAcknowledgedTransferStartsAnother(_ name: String, _ options: [TransferOption]) throws {
        var harness = CoreHarness()
        let old = try started(&harness)
        harness.transfer(.ack(block: 1), to: old, from: Self.client)
        #expect(harness.transfer(.ack(block: 2), to: old, from: Self.client).windows == [3])
        let effects = harness.listener(Self.rrq(name, options: options), from: Self.client)
        #expect(effects.endings.isEmpty)
        #expect(
            effects.openings.map(\.request) == [Request(filename: Array(name.utf8), mode: .octet, options: options)])
        let new = try #require(harness.socket(of: Self.client))
        #expect(new != old)
        #expect(harness.admission.running == 2)
        #expect(harness.core.count == 2)
        // The first goes on from its own socket; when it ends, the client's port routes to
        // the second.
        #expect(harness.transfer(.ack(block: 3), to: old, from: Self.client).windows == [4])
        let owner = harness.core.owner(ofSocket: old)
        let slot = try #require(owner)
        let now = harness.now
        let ended = harness.serve { $0.socketFailed(slot: slot, errno: 103, now: now, into: &$1) }
        #expect(ended.endings.map(\.outcome) == [.aborted])
        #expect(harness.socket(of: Self.client) == new)
        #expect(harness.admission.running == 1)
        #expect(harness.core.companions.isEmpty)
    }

    /// The second transfer ends first: the client's port routes back to the first.
    @Test func whenTheSecondEndsTheFirstKeepsTheRoute() throws {
        var harness = CoreHarness()
        let old = try started(&harness)
        harness.transfer(.ack(block: 1), to: old, from: Self.client)
        harness.transfer(.ack(block: 2), to: old, from: Self.client)
        harness.listener(Self.rrq("other"), from: Self.client)
        let new = try #require(harness.socket(of: Self.client))
        harness.transfer(.error(code: .notDefined, message: "bye"), to: new, from: Self.client)
        #expect(harness.socket(of: Self.client) == old)
        #expect(harness.core.companions.isEmpty)
        // And a request after that is judged against the first again.
        #expect(harness.listener(Self.rrq("third"), from: Self.client).openings.count == 1)
        #expect(harness.core.count == 2)
    }

    /// A stranger on a transfer's port gets ERROR 5 and changes nothing.
    @Test func aStrangerGetsError5() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        let effects = harness.transfer(.ack(block: 1), to: socket, from: Self.stranger)
        let slot = try #require(harness.slot(of: Self.client))
        #expect(
            effects == [
                .reply(slot: slot, .error(code: .unknownTransferID, message: "Unknown transfer ID"), to: Self.stranger)
            ])
        #expect(harness.transfer(.error(code: .notDefined, message: "x"), to: socket, from: Self.stranger).isEmpty)
        #expect(harness.transfer(.ack(block: 1), to: socket, from: Self.client).windows == [2])
    }

    // MARK: - Suspension

    /// Unproven: the first packet, one retransmission, then silence; the place goes back
    /// and the socket and file stay for a late ACK.
    @Test func anUnacknowledgedTransferFallsSilentAndGivesItsPlaceBack() throws {
        var harness = CoreHarness()
        _ = try started(&harness)
        #expect(harness.advance(.seconds(1)).windows == [1])
        let silent = harness.advance(.seconds(2))
        #expect(silent.suspensions == 1)
        #expect(silent.windows.isEmpty)
        #expect(harness.admission.running == 0)
        #expect(harness.core.count == 1)
        #expect(harness.core.suspended.count == 1)
        #expect(harness.isSuspended(Self.client))
        // Silent for the rest of the wait, then the end.
        #expect(harness.run(for: .seconds(89)).isEmpty)
        let end = harness.advance(.seconds(2))
        #expect(end.endings.map(\.outcome) == [.unacknowledged])
        #expect(end.endings.first?.pooled == true)
        #expect(harness.core.count == 0)
        #expect(harness.core.suspended.count == 0)
    }

    /// The same request during the suspension is answered once more, holding a place again
    /// while it waits; silent again after.
    @Test func aRepeatDuringTheSuspensionIsAnsweredOnce() throws {
        var harness = CoreHarness()
        _ = try started(&harness)
        harness.run(for: .seconds(4))
        #expect(harness.isSuspended(Self.client))
        let effects = harness.listener(Self.rrq(), from: Self.client)
        #expect(effects.windows == [1])
        #expect(harness.admission.running == 1)
        #expect(!harness.isSuspended(Self.client))
        #expect(harness.listener(Self.rrq(), from: Self.client).windows.isEmpty)
        #expect(harness.run(for: .seconds(3)).suspensions == 1)
        #expect(harness.admission.running == 0)
        #expect(harness.core.suspended.count == 1)
    }

    /// A late ACK resumes the transfer: it takes a place again and goes on.
    @Test func aLateAckResumesTheTransfer() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        harness.run(for: .seconds(4))
        let effects = harness.transfer(.ack(block: 1), to: socket, from: Self.client)
        #expect(effects.windows == [2])
        #expect(harness.admission.running == 1)
        #expect(harness.core.suspended.count == 0)
        #expect(!harness.isSuspended(Self.client))
    }

    /// A late ACK that finds the server full is dropped; the transfer keeps waiting.
    @Test func aLateAckWithoutAPlaceIsDropped() throws {
        var harness = CoreHarness(maxTransfers: 1)
        let socket = try started(&harness)
        harness.run(for: .seconds(4))
        _ = try started(&harness, TestAddress("other", 1))
        let effects = harness.transfer(.ack(block: 1), to: socket, from: Self.client)
        #expect(effects == [.note(.noPlaceToResume, client: Self.client)])
        #expect(harness.isSuspended(Self.client))
        #expect(harness.core.suspended.count == 1)
        #expect(harness.admission.running == 1)
    }

    /// A datagram that does not resume it gives the place straight back.
    @Test func aStaleAckDuringTheSuspensionChangesNothing() throws {
        var harness = CoreHarness()
        let socket = try started(&harness)
        harness.run(for: .seconds(4))
        #expect(harness.transfer(.ack(block: 7), to: socket, from: Self.client).isEmpty)
        #expect(harness.isSuspended(Self.client))
        #expect(harness.admission.running == 0)
        #expect(harness.core.suspended.count == 1)
    }

    /// Another request from the port of a suspended transfer ends it and is served.
    @Test func anotherRequestEndsASuspendedTransfer() throws {
        var harness = CoreHarness()
        _ = try started(&harness, name: "big")
        harness.run(for: .seconds(4))
        let effects = harness.listener(Self.rrq("small"), from: Self.client)
        #expect(effects.endings.map(\.outcome) == [.superseded])
        #expect(effects.openings.count == 1)
        #expect(harness.core.suspended.count == 0)
        #expect(harness.admission.running == 1)
    }

    /// Past the thread's cap of suspended transfers the oldest ends.
    @Test func theOldestSuspendedTransferEndsPastTheCap() throws {
        var harness = CoreHarness(suspendedLimit: 2)
        for port in 1...3 {
            _ = try started(&harness, TestAddress("c", port))
            harness.advance(.milliseconds(10))
        }
        let effects = harness.run(for: .seconds(4))
        #expect(effects.suspensions == 3)
        #expect(effects.endings.map(\.client) == [TestAddress("c", 1)])
        #expect(effects.endings.map(\.outcome) == [.unacknowledged])
        #expect(harness.core.suspended.count == 2)
        #expect(harness.core.count == 2)
    }

    /// A transfer that resumed and fell silent again takes a new place in the queue: its old
    /// entry does not make it the oldest.
    @Test func aResumedTransferQueuesAnewWhenItFallsSilentAgain() throws {
        var harness = CoreHarness(suspendedLimit: 2)
        _ = try started(&harness, TestAddress("c", 1))
        harness.run(for: .seconds(4))
        _ = try started(&harness, TestAddress("c", 2))
        harness.run(for: .seconds(4))
        // c1 asks again and falls silent again: now c2 is the oldest.
        harness.listener(Self.rrq(), from: TestAddress("c", 1))
        harness.run(for: .seconds(3))
        _ = try started(&harness, TestAddress("c", 3))
        let effects = harness.run(for: .seconds(4))
        #expect(effects.endings.map(\.client) == [TestAddress("c", 2)])
    }

    // MARK: - A flood

    /// The issue's flood, in virtual time: 1,000 ports of one address ask ten times each and
    /// never acknowledge. 256 run (the per-client limit), the rest are refused; within 3.1 s
    /// of the last request every place is back, a new port of the flood's address is served,
    /// and a flood port that asks for another file is served at once.
    @Test func aFloodLetsGoWithinItsRetransmission() throws {
        var harness = CoreHarness(maxPerClient: 256)
        var refused = 0
        for _ in 0..<10 {
            for port in 1...1000 {
                refused += harness.listener(Self.rrq("big"), from: TestAddress("flood", port)).refusals.count
            }
            harness.advance(.milliseconds(5))
        }
        #expect(harness.admission.running == 256)
        #expect(refused == 744 * 10)
        let reused = TestAddress("flood", 1)
        let served = harness.listener(Self.rrq("small"), from: reused)
        #expect(served.endings.map(\.outcome) == [.superseded])
        #expect(served.openings.count == 1)
        harness.run(for: .milliseconds(3100))
        // Every transfer is silent now, the reused port's too (nobody acknowledged it).
        #expect(harness.admission.running == 0)
        #expect(harness.core.suspended.count == 256)
        let later = harness.listener(Self.rrq("small"), from: TestAddress("flood", 5000))
        #expect(later.openings.count == 1)
        #expect(later.refusals.isEmpty)
    }

    // MARK: - Two threads

    /// Two engine threads of one server: the same admission, a core each.
    private func twoThreads() -> (CoreHarness, CoreHarness) {
        let first = CoreHarness(thread: 0)
        return (first, CoreHarness(sharing: first.admission, thread: 1))
    }

    /// A request that reaches a thread other than the one running its client's transfer (the
    /// engine moved between one thread and all meanwhile) goes to that thread, whole.
    @Test func aRequestOfATransferOnAnotherThreadIsHandedToIt() throws {
        var (first, second) = twoThreads()
        _ = try started(&first)
        let request = Request(filename: Array("other".utf8), mode: .octet)
        let effects = second.listener(.readRequest(request), from: Self.client)
        #expect(effects == [.handOver(TransferOpening(client: Self.client, request: request, listener: 0), thread: 0)])
        #expect(second.core.count == 0)
        #expect(first.admission.running == 1)
    }

    /// There another request before any ACK supersedes the transfer, as it would have on
    /// that thread's own listener: the client is answered at once.
    @Test func aHandedOverRequestSupersedesAnUnacknowledgedTransfer() throws {
        var (first, second) = twoThreads()
        let old = try started(&first, name: "big")
        let request = Request(filename: Array("small".utf8), mode: .octet)
        let handed = try #require(second.listener(.readRequest(request), from: Self.client).handOvers.first)
        #expect(handed.thread == 0)
        let effects = first.handedOver(handed.request, from: Self.client)
        #expect(effects.endings.map(\.outcome) == [.superseded])
        #expect(effects.openings.map(\.request) == [request])
        #expect(effects.windows == [1])
        #expect(first.socket(of: Self.client) != old)
        #expect(first.admission.running == 1)
    }

    /// The same request handed over is a repeat there: the first packet goes again. After an
    /// ACK, another request runs beside the acknowledged transfer on that thread.
    @Test func aHandedOverRepeatOrBesideRequestIsJudgedByTheOwner() throws {
        var (first, second) = twoThreads()
        let socket = try started(&first)
        first.advance(.milliseconds(100))
        let repeated = try #require(second.listener(Self.rrq(), from: Self.client).handOvers.first)
        #expect(first.handedOver(repeated.request, from: Self.client).windows == [1])
        #expect(first.core.count == 1)
        first.transfer(.ack(block: 1), to: socket, from: Self.client)
        let beside = try #require(second.listener(Self.rrq("other"), from: Self.client).handOvers.first)
        let effects = first.handedOver(beside.request, from: Self.client)
        #expect(effects.openings.map(\.request.filename) == [Array("other".utf8)])
        #expect(first.core.count == 2)
        #expect(first.admission.running == 2)
    }

    /// A handed-over request is never handed on: should the client's transfer be elsewhere
    /// by then, it goes unanswered like a lost datagram, and the client asks again.
    @Test func aHandedOverRequestIsNeverHandedOn() throws {
        var (first, second) = twoThreads()
        _ = try started(&second)
        let effects = first.handedOver(Request(filename: Array("file".utf8), mode: .octet), from: Self.client)
        #expect(effects == [.note(.runningElsewhere, client: Self.client)])
        #expect(first.core.count == 0)
        #expect(second.admission.running == 1)
    }

    // MARK: - Single-port mode

    /// Every transfer answers from the listener; a client's datagrams reach its transfer by
    /// its address and port, its request goes through admission.
    @Test func singlePortRoutesByClient() throws {
        var harness = CoreHarness(singlePort: true)
        let effects = harness.listener(Self.rrq(), from: Self.client)
        #expect(effects.openings.first?.socket == .listener(0))
        #expect(harness.listener(.ack(block: 1), from: Self.client).windows == [2])
        #expect(harness.listener(.ack(block: 1), from: Self.stranger) == [.note(.notARequest, client: Self.stranger)])
        // A repeat goes through admission: no drain (one socket keeps the client's order).
        let repeated = harness.listener(Self.rrq(), from: Self.client)
        #expect(repeated == [.note(.repeatedRequest, client: Self.client)])
        // Acknowledged: a second transfer to the same address and port could not be told
        // apart from the first on one socket, so another request is ignored while it runs.
        let other = harness.listener(Self.rrq("other"), from: Self.client)
        #expect(other == [.note(.acknowledgedTransferRuns, client: Self.client)])
        #expect(harness.core.count == 1)
        // Before any ACK, another request supersedes, as with sockets of their own.
        let second = TestAddress("second", 1)
        harness.listener(Self.rrq(), from: second)
        let superseding = harness.listener(Self.rrq("other"), from: second)
        #expect(superseding.endings.map(\.outcome) == [.superseded])
        #expect(superseding.endings.first?.pooled == false)
        #expect(superseding.openings.first?.socket == .listener(0))
    }

    // MARK: - Sockets

    /// A socket serves again only after its transfer ended in order and its quarantine
    /// passed; after a timeout or a failure it is closed.
    @Test func socketsAreReusedByOutcomeAfterTheirQuarantine() throws {
        var harness = CoreHarness()
        harness.contentSize = 100
        let first = try started(&harness)
        #expect(harness.transfer(.ack(block: 1), to: first, from: Self.client).endings.first?.pooled == true)
        // Inside the quarantine (20 ms at least) a new request gets a fresh socket.
        #expect(harness.listener(Self.rrq(), from: TestAddress("b", 1)).openings.first?.socket == nil)
        harness.advance(.milliseconds(25))
        #expect(harness.listener(Self.rrq(), from: TestAddress("c", 1)).openings.first?.socket == .own(first))
        // A transfer that timed out does not give its socket back.
        var timing = CoreHarness()
        let socket = try started(&timing)
        timing.transfer(.ack(block: 1), to: socket, from: Self.client)
        let ended = timing.run(for: .seconds(60)).endings
        #expect(ended.map(\.outcome) == [.timedOut])
        #expect(ended.first?.pooled == false)
        // Nor one whose socket failed.
        var failing = CoreHarness()
        let broken = try started(&failing)
        let slot = try #require(failing.slot(of: Self.client))
        let now = failing.now
        let failed = failing.serve { $0.socketFailed(slot: slot, errno: 103, now: now, into: &$1) }
        #expect(failed.endings.map(\.outcome) == [.aborted])
        #expect(failed.endings.first?.pooled == false)
        #expect(failed.endings.first?.socketErrno == 103)
        let owner = failing.core.owner(ofSocket: broken)
        #expect(owner == nil)
    }

    @Test(arguments: [
        (ServerTransfer.Outcome.completed, true), (.sizeProbe, true), (.refused(code: .fileNotFound, reason: ""), true),
        (.unacknowledged, true), (.superseded, true), (.peerError(code: .notDefined, message: ""), false),
        (.timedOut, false), (.protocolViolation(.data), false), (.readFailed(.io(errno: 5)), false), (.aborted, false),
    ])
    func socketReuseByOutcome(_ outcome: ServerTransfer.Outcome, _ reusable: Bool) {
        #expect(CoreHarness.Core.socketReusable(after: outcome) == reusable)
    }

    /// Idle pooled sockets close after two seconds.
    @Test func idleSocketsExpire() throws {
        var harness = CoreHarness()
        harness.contentSize = 100
        let socket = try started(&harness)
        harness.transfer(.ack(block: 1), to: socket, from: Self.client)
        #expect(harness.core.nextDeadline != nil)
        #expect(harness.run(for: .seconds(3)) == [.close(socket)])
        #expect(harness.core.nextDeadline == nil)
    }

    /// A timer entry of a transfer that ended never reaches the next one in its slot.
    @Test func staleTimersDoNotReachTheNextTransferInASlot() throws {
        var harness = CoreHarness()
        harness.contentSize = 100
        let first = try started(&harness)
        harness.transfer(.ack(block: 1), to: first, from: Self.client)
        harness.advance(.milliseconds(500))
        _ = try started(&harness, TestAddress("b", 1))
        // The first transfer's 1 s entry falls due now; the second's is due at 1.5 s.
        #expect(harness.advance(.milliseconds(600)).windows.isEmpty)
        #expect(harness.advance(.milliseconds(500)).windows == [1])
    }

    // MARK: - The link and the last ERROR

    /// Blocks fit one unfragmented datagram of the listener's link: the MTU less IPv4's 20
    /// bytes (IPv6's 40), UDP's 8 and the DATA header's 4; within RFC 2348's bounds.
    @Test func blocksFitTheListenersLink() throws {
        var harness = CoreHarness(listenerMTU: 1500)
        for (client, expected) in [
            (TestAddress("v4", 1), 1468), (TestAddress("v6", 1, ipv6: true), 1448),
        ] {
            harness.listener(Self.rrq(), from: client)
            let slot = try #require(harness.slot(of: client))
            #expect(harness.core[slot]?.endpoint.transfer.configuration.limits.maxBlockSize == expected)
        }
        #expect(CoreHarness.Core.blockSize(mtu: 9000, ipv6: false) == 8968)
        #expect(CoreHarness.Core.blockSize(mtu: 65536, ipv6: false) == 65464)
        #expect(CoreHarness.Core.blockSize(mtu: 20, ipv6: false) == 8)
        // Without a known MTU the configured limit stands.
        var unclamped = CoreHarness()
        unclamped.listener(Self.rrq(), from: Self.client)
        let slot = try #require(unclamped.slot(of: Self.client))
        #expect(unclamped.core[slot]?.endpoint.transfer.configuration.limits.maxBlockSize == 65464)
    }

    /// A last ERROR that finds its send buffer full waits a second for room, and its socket,
    /// pooled at the transfer's end, serves no other transfer meanwhile.
    @Test func aLastErrorThatWaitsKeepsItsSocketFromTheNextTransfer() throws {
        var harness = CoreHarness()
        harness.content = .failure(.notFound)
        let ending = try #require(harness.listener(Self.rrq(), from: Self.client).endings.first)
        #expect(ending.pooled)
        guard case .own(let socket) = ending.socket else {
            Issue.record("no socket of its own")
            return
        }
        let now = harness.now
        let deadline = harness.core.lastErrorWaits(socket: socket, ownSocket: true, now: now)
        #expect(deadline == now + .seconds(1))
        harness.content = nil
        harness.advance(.milliseconds(100))
        let next = harness.listener(Self.rrq(), from: TestAddress("next", 1))
        #expect(next.openings.first?.socket == nil)
    }

    // MARK: - Shutdown

    @Test func shutdownGivesRunningTransfersTheirGraceAndEndsTheRest() throws {
        var harness = CoreHarness()
        let running = try started(&harness, TestAddress("run", 1))
        harness.transfer(.ack(block: 1), to: running, from: TestAddress("run", 1))
        _ = try started(&harness, TestAddress("silent", 1))
        harness.run(for: .milliseconds(3500))
        let now = harness.now
        let effects = harness.serve { $0.beginShutdown(grace: .seconds(5), now: now, into: &$1) }
        #expect(effects.endings.map(\.outcome) == [.aborted])
        #expect(effects.endings.map(\.client) == [TestAddress("silent", 1)])
        #expect(effects.endings.first?.finalPacket == nil)
        let aborted = harness.run(for: .seconds(6)).endings
        #expect(aborted.map(\.outcome) == [.aborted])
        #expect(aborted.first?.finalPacket == .error(code: .notDefined, message: "Server shutting down"))
        #expect(harness.core.count == 0)
    }

    @Test func stopEndsWhatIsLeftAndClosesIdleSockets() throws {
        var harness = CoreHarness()
        harness.contentSize = 100
        let silent = try started(&harness, TestAddress("silent", 1))
        harness.run(for: .milliseconds(3500))
        let done = try started(&harness, TestAddress("done", 1))
        harness.transfer(.ack(block: 1), to: done, from: TestAddress("done", 1))
        let now = harness.now
        let effects = harness.serve { $0.stop(now: now, into: &$1) }
        #expect(effects.endings.map(\.outcome) == [.unacknowledged])
        #expect(effects.endings.first?.pooled == true)
        #expect(effects.filter { if case .close = $0 { true } else { false } } == [.close(done), .close(silent)])
        #expect(harness.core.count == 0)
    }

    // MARK: - Invariants

    /// Random traffic from a few hosts and ports (requests for two files, ACKs, errors,
    /// garbage, strangers on transfer ports, time passing, shutdown), seeded: after every
    /// event the core's books agree with each other and with admission, and a client that
    /// never acknowledged anything got its first packet at most once per request plus one
    /// timer retransmission per transfer.
    @Test(arguments: 1...40)
    func booksStayConsistentUnderRandomTraffic(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var harness = CoreHarness(
            suspendedLimit: 3, maxTransfers: 6, maxPerClient: 4)
        harness.contentSize = Int64.random(in: 0...5000, using: &random)
        let clients = (0..<3).flatMap { host in (1...3).map { TestAddress("h\(host)", $0) } }
        var requests: [TestAddress: Int] = [:]
        var transfers: [TestAddress: Int] = [:]
        var firstPackets: [TestAddress: Int] = [:]
        var proven: Set<TestAddress> = []
        for step in 0..<400 {
            let client = clients[Int.random(in: 0..<clients.count, using: &random)]
            var effects: [CoreHarness.Effect] = []
            switch Int.random(in: 0..<10, using: &random) {
            case 0...2:
                requests[client, default: 0] += 1
                effects = harness.listener(Self.rrq(random.chance(0.7) ? "a" : "b"), from: client)
            case 3...5:
                if let socket = harness.socket(of: client) {
                    let block = UInt16.random(in: 0...3, using: &random)
                    effects = harness.transfer(.ack(block: block), to: socket, from: client)
                    if block >= 1 { proven.insert(client) }
                }
            case 6:
                if let socket = harness.socket(of: client) {
                    effects = harness.transfer(.ack(block: 1), to: socket, from: Self.stranger)
                    #expect(effects.allSatisfy { if case .reply(_, _, Self.stranger) = $0 { true } else { false } })
                }
            case 7:
                effects = harness.listener(.failure(.tooShort), from: client)
            case 8:
                if step == 300 {
                    let now = harness.now
                    effects = harness.serve { $0.beginShutdown(grace: .seconds(2), now: now, into: &$1) }
                } else {
                    effects = harness.advance(.milliseconds(Int64.random(in: 1...1500, using: &random)))
                }
            default:
                effects = harness.advance(.milliseconds(Int64.random(in: 1...50, using: &random)))
            }
            for effect in effects {
                if case .open(let opening) = effect { transfers[opening.client, default: 0] += 1 }
                guard case .sendWindow(let slot, let window) = effect, window.first == 1,
                    let to = harness.core[slot]?.client
                else { continue }
                firstPackets[to, default: 0] += 1
            }
            let books = checkBooks(harness)
            let reflected = firstPackets.filter { client, sent in
                !proven.contains(client) && sent > requests[client, default: 0] + transfers[client, default: 0]
            }
            guard books.isEmpty, reflected.isEmpty else {
                Issue.record("seed \(seed) step \(step): \(books) \(reflected)")
                return
            }
        }
    }

    /// The core's tables agree: routes and transfers point at each other, sockets map to
    /// their transfers, the suspended count is the suspended transfers, and admission holds
    /// exactly the running ones. Returns what disagrees.
    private func checkBooks(_ harness: CoreHarness) -> [String] {
        var problems: [String] = []
        var running = 0
        var suspended = 0
        var perClient: [TestAddress: Int] = [:]
        for slot in harness.core.transfers.indices {
            guard let transfer = harness.core.transfers[slot] else {
                if !harness.core.freeSlots.contains(slot) { problems.append("slot \(slot) empty but not free") }
                continue
            }
            if harness.core.freeSlots.contains(slot) { problems.append("slot \(slot) used and free") }
            if harness.core.routes[transfer.client] == nil { problems.append("no route to slot \(slot)'s client") }
            perClient[transfer.client, default: 0] += 1
            if case .own(let socket) = transfer.socket, harness.core.owner(ofSocket: socket) != slot {
                problems.append("socket \(socket) not mapped to slot \(slot)")
            }
            if transfer.isSuspended {
                suspended += 1
                if !transfer.endpoint.transfer.isSuspended { problems.append("slot \(slot) suspended, machine not") }
            } else {
                running += 1
            }
        }
        for (client, slot) in harness.core.routes where harness.core.transfers[slot]?.client != client {
            problems.append("route of \(client) to slot \(slot) of another")
        }
        for (client, count) in perClient where count != 1 + harness.core.companions[client, default: 0] {
            problems.append(
                "\(client) has \(count) transfers, \(harness.core.companions[client, default: 0]) companions")
        }
        if harness.core.suspended.count != suspended {
            problems.append("suspended \(harness.core.suspended.count) != \(suspended)")
        }
        if suspended > harness.core.suspended.limit { problems.append("\(suspended) suspended over the cap") }
        if harness.core.openingsInFlight != 0 { problems.append("\(harness.core.openingsInFlight) openings in flight") }
        if harness.admission.running != running {
            problems.append("admission holds \(harness.admission.running), \(running) run")
        }
        return problems
    }
}
