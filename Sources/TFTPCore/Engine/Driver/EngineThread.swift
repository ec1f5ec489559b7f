import CTFTPShims
import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One engine thread: the TFTP hot path, without NIO (docs/architecture.md, "The datagram
/// engine"). It owns an epoll instance, its listening sockets, one receive buffer and its
/// send scratch, and an ``EngineCore`` that holds its transfers and decides everything about
/// them; nothing on the per-packet path is shared with another thread.
///
/// One turn of the loop: `epoll_wait` until the core's next deadline, then for each ready
/// socket receive (a transfer socket: one datagram; a listener: a `recvmmsg` batch), decode
/// with the one codec, hand the datagram to the core and perform the effects it returns:
/// send (a window as GSO messages in one `sendmmsg`), open an admitted request, read ahead,
/// write a transfer's line. Then fire the due deadlines. The thread decides nothing.
///
/// This file holds its state, its loop and how an event reaches the core (`react`);
/// `EngineThread+Effects.swift` what each effect is performed as,
/// `EngineThread+Listeners.swift` the listening sockets, refusals and opening a transfer,
/// `EngineThread+Transfers.swift` the transfers' datagrams, windows and reads,
/// `EngineThread+Ending.swift` backpressure and the end of a transfer.
final class EngineThread: @unchecked Sendable {
    // @unchecked: after `init`, everything but `mailbox` is touched by the thread alone.

    typealias Core = EngineCore<PeerAddress, TransferRegistry>
    typealias Effect = Core.Effect

    let mailbox: EngineMailbox
    /// Which of the engine's threads this is (0: the one that samples the load and steers).
    let index: Int
    let load: EngineLoad
    /// Where reads that would wait for the device go.
    let reads: BlockingReadPool
    let settings: EngineSettings
    let listeners: [EngineListener]
    let epoll: Int32

    // The thread's state is unchecked for exclusive access in release builds: a class's
    // stored `var` is checked at run time on every use, and each datagram uses the core, the
    // transfer records and the effect buffers several times (measured in a storm: a sixth of
    // the thread's instructions). Only this thread touches them (`react` asserts it), and the
    // core is never handed an event while it is inside another (`react` performs the effects
    // after the event returns). Debug and test builds keep the checks, so every test run
    // proves the rule the release build trusts (docs/architecture.md, "Measured on the
    // project's machine").

    #if DEBUG
        // Debug and test builds check every access; release builds trust the rule below.
        var core: Core
        var io: [EngineTransfer?] = []
        var blockedOnListener: [[Int]]
        var farewells: [Farewell] = []
        var running = true
        var listenerDrops: [UInt32]
        var dropsCheckedAt: UInt64 = 0
        var listenersReadSinceCheck = false
        var effectBuffers: [[Effect]] = []
        var depth = 0
    #else
        /// The rules: transfers, routes, timers, suspensions, idle sockets.
        @exclusivity(unchecked) var core: Core
        /// What the thread holds of each transfer, by the core's slot.
        @exclusivity(unchecked) var io: [EngineTransfer?] = []
        /// Single-port mode: transfers waiting for room in each listener's send buffer.
        @exclusivity(unchecked) var blockedOnListener: [[Int]]
        /// Last ERRORs of ended transfers that wait for room in a send buffer (bounded wait).
        @exclusivity(unchecked) var farewells: [Farewell] = []
        @exclusivity(unchecked) var running = true
        /// The kernel's drop count of each listener when it was last read, and when that was.
        @exclusivity(unchecked) var listenerDrops: [UInt32]
        @exclusivity(unchecked) var dropsCheckedAt: UInt64 = 0
        @exclusivity(unchecked) var listenersReadSinceCheck = false
        /// Reusable buffers for the core's effects, one per level of nesting (performing an
        /// effect may hand the core another event), so no event allocates.
        @exclusivity(unchecked) var effectBuffers: [[Effect]] = []
        @exclusivity(unchecked) var depth = 0
    #endif

    /// Receive slots: room for the largest UDP datagram each, so nothing is ever cut short.
    static let receiveSlotBytes = 65536
    /// Datagrams taken from a listener with one `recvmmsg`.
    static let receiveBatch = 16
    let receiveBuffer: UnsafeMutableRawPointer
    let receivedLengths: UnsafeMutablePointer<Int>
    let sources: UnsafeMutablePointer<sockaddr_storage>
    let sourceLengths: UnsafeMutablePointer<socklen_t>
    static let maxEvents = 256
    let events: UnsafeMutablePointer<epoll_event>
    /// Openings parked until the size of their file, arriving from the origin, is known;
    /// transfers whose window waits for bytes to land; the arriving files this thread
    /// watches (`EngineThread+Arrivals.swift`). Empty without `--origin`.
    var parkedOpenings: [ParkedOpening] = []
    /// Small files this thread served lately (``RecentFiles``): 16 MiB shared out among the
    /// engine's threads, at least 2 MiB each.
    let recentFiles: RecentFiles<Void>
    var awaitingArrival: [Int] = []
    var watchedArrivals: [ObjectIdentifier: ArrivingFile] = [:]
    /// Where control packets (OACK, ERROR) are encoded before they are sent.
    #if DEBUG
        var scratch = ByteBufferAllocator().buffer(capacity: 1024)
    #else
        @exclusivity(unchecked) var scratch = ByteBufferAllocator().buffer(capacity: 1024)
    #endif

    init(
        index: Int, listeners: [EngineListener], settings: EngineSettings, registry: TransferRegistry,
        mailbox: EngineMailbox, reads: BlockingReadPool, load: EngineLoad, threads: Int = 1
    )
        throws(UDPSocket.Failure)
    {
        self.index = index
        self.load = load
        recentFiles = RecentFiles(maxTotalBytes: max(2 << 20, (16 << 20) / max(1, threads)))
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw UDPSocket.Failure(operation: "epoll_create1", errno: errno) }
        self.epoll = epoll
        self.listeners = listeners
        self.settings = settings
        self.mailbox = mailbox
        self.reads = reads
        blockedOnListener = Array(repeating: [], count: listeners.count)
        listenerDrops = listeners.map { UDPSocket.drops($0.descriptor) ?? 0 }
        core = Core(
            listeners: listeners.count, singlePort: settings.singlePort, suspendedLimit: settings.suspendedLimit,
            poolCapacity: settings.portRange == nil ? settings.socketPoolCapacity : 0,
            listenerMTUs: listeners.map(\.mtu), admission: registry, thread: index)
        // The batch's slots, and one more for transfer sockets (read while a batch is handled).
        receiveBuffer = .allocate(byteCount: Self.receiveSlotBytes * (Self.receiveBatch + 1), alignment: 16)
        receivedLengths = .allocate(capacity: Self.receiveBatch)
        sources = .allocate(capacity: Self.receiveBatch + 1)
        sourceLengths = .allocate(capacity: Self.receiveBatch)
        events = .allocate(capacity: Self.maxEvents)
        guard ctftp_epoll_add(epoll, mailbox.eventDescriptor, EPOLLIN.rawValue, EpollTag.mailbox.rawValue) == 0 else {
            throw UDPSocket.Failure(operation: "epoll_ctl", errno: errno)
        }
        for (index, listener) in listeners.enumerated() {
            guard
                ctftp_epoll_add(epoll, listener.descriptor, EPOLLIN.rawValue, EpollTag.listener(index).rawValue) == 0
            else {
                throw UDPSocket.Failure(operation: "epoll_ctl", errno: errno)
            }
        }
    }

    deinit {
        close(epoll)
        receiveBuffer.deallocate()
        receivedLengths.deallocate()
        sources.deallocate()
        sourceLengths.deallocate()
        events.deallocate()
    }

    // MARK: - The loop

    /// The thread that runs the loop: every event reaches the core on it (`react` asserts so
    /// in debug and test builds, where the exclusivity checks are on as well).
    private let owner = NIOLockedValueBox<pthread_t?>(nil)

    /// Whether the caller is the thread that runs the loop.
    var onOwnerThread: Bool {
        owner.withLockedValue { $0.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Runs until told to stop; then closes its listeners and whatever is left.
    func run() {
        owner.withLockedValue { $0 = pthread_self() }
        // The time this thread woke; the time until it sleeps again is its busy time.
        var woke = NIODeadline.now().uptimeNanoseconds
        var nextSample = woke + EngineLoad.sampleInterval
        while running {
            let before = NIODeadline.now()
            load.add(busy: before.uptimeNanoseconds &- woke, thread: index)
            if index == 0, before.uptimeNanoseconds >= nextSample {
                nextSample = load.sample(now: before.uptimeNanoseconds)
            }
            let sampleDue: UInt64? = index == 0 && load.wantsSamples ? nextSample : nil
            let count = epoll_wait(epoll, events, Int32(Self.maxEvents), timeout(now: before, alsoAt: sampleDue))
            let now = NIODeadline.now()
            woke = now.uptimeNanoseconds
            if count < 0 {
                if errno == EINTR { continue }
                settings.logger.critical(
                    "engine thread stopped",
                    metadata: ["error": "\(UDPSocket.Failure(operation: "epoll_wait", errno: errno))"])
                break
            }
            for ready in 0..<Int(count) {
                let event = events + ready
                dispatch(EpollTag(rawValue: ctftp_epoll_data(event)), flags: ctftp_epoll_events(event), now: now)
            }
            let after = NIODeadline.now()
            react(now: after) { $0.fireTimers(now: after, into: &$1) }
            if !farewells.isEmpty { expireFarewells(now: after.uptimeNanoseconds) }
            if listenersReadSinceCheck, after.uptimeNanoseconds >= dropsCheckedAt + 1_000_000_000 {
                countListenerDrops(now: after.uptimeNanoseconds)
            }
        }
        let now = NIODeadline.now()
        react(now: now) { $0.stop(now: now, into: &$1) }
        for farewell in farewells where farewell.closesSocket { close(farewell.descriptor) }
        farewells.removeAll()
        for listener in listeners { close(listener.descriptor) }
        mailbox.seal()
    }

    /// Milliseconds `epoll_wait` may sleep: until the earliest deadline (the core's, a
    /// farewell's, the next look at the listeners' drop counts, the next look at the load
    /// when it is due without traffic), rounded up.
    func timeout(now: NIODeadline, alsoAt extra: UInt64? = nil) -> Int32 {
        let current = now.uptimeNanoseconds
        var wake = min(core.nextDeadline ?? UInt64.max, extra ?? UInt64.max)
        if listenersReadSinceCheck { wake = min(wake, dropsCheckedAt + 1_000_000_000) }
        for farewell in farewells { wake = min(wake, farewell.deadline) }
        guard wake != UInt64.max else { return -1 }
        guard wake > current else { return 0 }
        return Int32(min((wake - current + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    func dispatch(_ tag: EpollTag, flags: UInt32, now: NIODeadline) {
        switch tag {
        case .mailbox:
            handleCommands(now: now)
        case .listener(let index):
            if flags & EPOLLOUT.rawValue != 0 { listenerWritable(index) }
            if flags & (EPOLLIN.rawValue | EPOLLERR.rawValue) != 0 { readListener(index, now: now) }
        case .socket(let descriptor):
            guard let slot = core.owner(ofSocket: descriptor), let transfer = io[slot] else {
                // An idle pooled socket, or one whose ended transfer's last ERROR waits: what
                // reaches it (a late datagram of the transfer that used it, a stranger's, an
                // error) is read and dropped, as if the port were closed.
                return unownedSocketReady(descriptor, flags: flags, now: now)
            }
            if flags & EPOLLERR.rawValue != 0,
                let error = UDPSocket.get(descriptor, level: SOL_SOCKET, option: SO_ERROR), error != 0
            {
                return react(now: now) { $0.socketFailed(slot: slot, errno: error, now: now, into: &$1) }
            }
            if flags & EPOLLOUT.rawValue != 0 { writable(transfer) }
            if flags & EPOLLIN.rawValue != 0, io[slot] === transfer { readTransfer(transfer, now: now) }
        }
    }

    func handleCommands(now: NIODeadline) {
        for command in mailbox.take() {
            switch command {
            case .beginShutdown(let grace):
                react(now: now) { $0.beginShutdown(grace: grace, now: now, into: &$1) }
            case .abort:
                react(now: now) { $0.abort(now: now, into: &$1) }
            case .stop:
                running = false
            case .reportActive(let collector):
                collector.add(activeTransfers(now: now))
            case .readCompleted(let slot, let generation, let failure):
                guard core.isCurrent(slot: slot, generation: generation), let transfer = io[slot] else { continue }
                readCompleted(transfer, failure: failure, now: now)
            case .arrived:
                arrivalsChanged(now: now)
            case .request(let request, let client, let local):
                guard let listener = listeners.firstIndex(where: { $0.local == local }) else {
                    perform(.note(.runningElsewhere, client: client), now: now)
                    continue
                }
                react(now: now) { $0.handedOver(request, from: client, listener: listener, now: now, into: &$1) }
            }
        }
    }

    /// The running transfers as the status page shows them.
    func activeTransfers(now: NIODeadline) -> [StatusSnapshot.Active] {
        core.transfers.compactMap { routed in
            guard let routed else { return nil }
            let machine = routed.endpoint.transfer
            return .init(
                client: routed.client.display, file: machine.request.printableFilename,
                requested: TransferBoard.text(machine.request.options),
                granted: TransferBoard.text(machine.options.acknowledged),
                bytes: machine.statistics.bytesAcknowledged, size: machine.contentSize,
                elapsedMilliseconds: (now - routed.started).nanoseconds / 1_000_000,
                retransmits: machine.statistics.retransmits, state: routed.isSuspended ? "waiting" : "sending")
        }
    }

    // MARK: - The core's effects

    /// Hands an event to the core and performs the effects it returns, in order. `prepare`
    /// sees the event's result before any effect is performed (an opened transfer's record
    /// must exist before its first window goes out). Inlined into each caller, so that the
    /// event's closure is not a call of its own on every packet (docs/architecture.md,
    /// "Measured on the project's machine").
    @inline(__always)
    func react<Result>(
        now: NIODeadline, _ event: (inout Core, inout [Effect]) -> Result, prepare: (Result) -> Void = { _ in }
    ) {
        assert(onOwnerThread, "an engine core event off its thread")
        let level = depth
        if level == effectBuffers.count { effectBuffers.append([]) }
        var effects: [Effect] = []
        swap(&effects, &effectBuffers[level])
        let result = event(&core, &effects)
        prepare(result)
        depth += 1
        // Taken from the end, reversed first: each effect is moved out of the buffer, not
        // copied, and the buffer is empty afterwards with its capacity kept (most events
        // have one effect, and one is not reversed).
        if effects.count > 1 { effects.reverse() }
        while let effect = effects.popLast() { perform(effect, now: now) }
        depth -= 1
        swap(&effects, &effectBuffers[level])
        // Every opening the core handed over was begun or refused (quinn-proto guards its
        // `Incoming` the same way): a place taken and never given back would be lost.
        assert(
            level > 0 || core.openingsInFlight == parkedOpenings.count,
            "an admitted opening was neither begun, refused nor parked for the origin")
    }
}
