import CTFTPShims
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One engine thread: the TFTP hot path, without NIO (docs/architecture.md, "The datagram
/// engine"). It owns an epoll instance, its listening sockets, the transfers it admitted,
/// their timers, one receive buffer and its send scratch; nothing on the per-packet path is
/// shared with another thread.
///
/// One turn of the loop: `epoll_wait` until the next deadline, then for each ready socket
/// receive (a transfer socket: one datagram; a listener: a `recvmmsg` batch), decode with
/// the one codec, hand it to the pure rules (``ListenerDecision``, ``TransferTable``,
/// ``ServerEndpoint``) and perform what they return: send (a window as GSO messages in one
/// `sendmmsg`), read ahead, arm a deadline, finish. Then fire the due deadlines. The thread
/// decides nothing about the protocol.
///
/// This file holds its state and its loop; `EngineThread+Listeners.swift` the listening
/// sockets and admission, `EngineThread+Transfers.swift` the transfers' datagrams, windows and
/// reads, `EngineThread+Ending.swift` backpressure and the end of a transfer.
final class EngineThread: @unchecked Sendable {
    // @unchecked: after `init`, everything but `mailbox` is touched by the thread alone.

    let mailbox: EngineMailbox
    let registry: TransferRegistry
    /// Where reads that would wait for the device go.
    let reads: BlockingReadPool
    let settings: EngineSettings
    let listeners: [EngineListener]
    let epoll: Int32

    var slots: [EngineTransfer?] = []
    var freeSlots: [Int] = []
    var nextGeneration: UInt32 = 1
    /// The running transfers of this thread by client address and port (single-port mode
    /// routes the client's datagrams by it).
    var routes: [PeerAddress: Int] = [:]
    /// Single-port mode: transfers waiting for room in each listener's send buffer.
    var blockedOnListener: [[Int]]
    var timers = TimerHeap()
    var pool: SocketPool
    var running = true
    /// Suspended transfers, oldest first (entries of transfers that resumed or ended are
    /// skipped when met), and how many are suspended now.
    var suspendedOrder: [(slot: Int, generation: UInt32)] = []
    var suspendedHead = 0
    var suspendedCount = 0
    /// The kernel's drop count of each listener when it was last read, and when that was.
    var listenerDrops: [UInt32]
    var dropsCheckedAt: UInt64 = 0
    var listenersReadSinceCheck = false

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
    /// Where control packets (OACK, ERROR) are encoded before they are sent.
    var scratch = ByteBufferAllocator().buffer(capacity: 1024)

    /// Epoll tags: the mailbox's, a listener's (this bit and its index), and a transfer
    /// socket's, which is its descriptor: the socket is found by descriptor
    /// (``slotByDescriptor``), so a pooled socket changes hands without an epoll call.
    static let mailboxTag = UInt64.max
    static let listenerTag: UInt64 = 1 << 62
    /// The transfer's slot for each transfer socket's descriptor; -1 for none (an idle
    /// pooled socket, or a descriptor that is not a transfer socket).
    var slotByDescriptor: [Int32] = []
    /// How long a finished transfer waits for room to send its last ERROR.
    static let lingerTime = TimeAmount.seconds(1)

    init(
        listeners: [EngineListener], settings: EngineSettings, registry: TransferRegistry, mailbox: EngineMailbox,
        reads: BlockingReadPool
    )
        throws(UDPSocket.Failure)
    {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw UDPSocket.Failure(operation: "epoll_create1", errno: errno) }
        self.epoll = epoll
        self.listeners = listeners
        self.settings = settings
        self.registry = registry
        self.mailbox = mailbox
        self.reads = reads
        blockedOnListener = Array(repeating: [], count: listeners.count)
        listenerDrops = listeners.map { UDPSocket.drops($0.descriptor) ?? 0 }
        pool = SocketPool(
            listeners: listeners.count, maximumIdle: .seconds(2),
            capacity: settings.portRange == nil && !settings.singlePort ? settings.socketPoolCapacity : 0)
        // The batch's slots, and one more for transfer sockets (read while a batch is handled).
        receiveBuffer = .allocate(byteCount: Self.receiveSlotBytes * (Self.receiveBatch + 1), alignment: 16)
        receivedLengths = .allocate(capacity: Self.receiveBatch)
        sources = .allocate(capacity: Self.receiveBatch + 1)
        sourceLengths = .allocate(capacity: Self.receiveBatch)
        events = .allocate(capacity: Self.maxEvents)
        guard ctftp_epoll_add(epoll, mailbox.eventDescriptor, EPOLLIN.rawValue, Self.mailboxTag) == 0 else {
            throw UDPSocket.Failure(operation: "epoll_ctl", errno: errno)
        }
        for (index, listener) in listeners.enumerated() {
            guard ctftp_epoll_add(epoll, listener.descriptor, EPOLLIN.rawValue, Self.listenerTag | UInt64(index)) == 0
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

    /// Runs until told to stop; then closes its listeners and whatever is left.
    func run() {
        while running {
            let count = epoll_wait(epoll, events, Int32(Self.maxEvents), timeout(now: .now()))
            if count < 0 {
                if errno == EINTR { continue }
                settings.logger.critical(
                    "engine thread stopped",
                    metadata: ["error": "\(UDPSocket.Failure(operation: "epoll_wait", errno: errno))"])
                break
            }
            let now = NIODeadline.now()
            for index in 0..<Int(count) {
                let event = events + index
                dispatch(tag: ctftp_epoll_data(event), flags: ctftp_epoll_events(event), now: now)
            }
            let after = NIODeadline.now()
            fireTimers(now: after)
            pool.expire(now: after.uptimeNanoseconds) { close($0) }
            if listenersReadSinceCheck, after.uptimeNanoseconds >= dropsCheckedAt + 1_000_000_000 {
                countListenerDrops(now: after.uptimeNanoseconds)
            }
        }
        for slot in slots.indices {
            // Suspended transfers hold no slot, so a server can stop while some wait for a
            // late ACK: they end with their line, as they would have.
            if let transfer = slots[slot], transfer.suspended {
                perform(transfer.endpoint.transfer.endSuspension(), for: transfer, now: .now())
            }
            if let transfer = slots[slot] { release(transfer, reusable: false) }
        }
        pool.removeAll { close($0) }
        for listener in listeners { close(listener.descriptor) }
        mailbox.seal()
    }

    /// Milliseconds `epoll_wait` may sleep: until the earliest deadline, rounded up, and
    /// no longer than a second while idle sockets wait in the pool to be closed.
    func timeout(now: NIODeadline) -> Int32 {
        let current = now.uptimeNanoseconds
        var wake = timers.first?.deadline ?? UInt64.max
        if pool.count > 0 { wake = min(wake, current + 1_000_000_000) }
        if listenersReadSinceCheck { wake = min(wake, dropsCheckedAt + 1_000_000_000) }
        guard wake != UInt64.max else { return -1 }
        guard wake > current else { return 0 }
        return Int32(min((wake - current + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    func dispatch(tag: UInt64, flags: UInt32, now: NIODeadline) {
        if tag == Self.mailboxTag {
            handleCommands(now: now)
        } else if tag & Self.listenerTag != 0 {
            let index = Int(tag & ~Self.listenerTag)
            if flags & EPOLLOUT.rawValue != 0 { resumeBlocked(onListener: index) }
            if flags & (EPOLLIN.rawValue | EPOLLERR.rawValue) != 0 { readListener(index, now: now) }
        } else {
            let descriptor = Int32(truncatingIfNeeded: tag)
            guard let transfer = owner(of: descriptor) else {
                // An idle pooled socket: a late datagram of the transfer that used it, a
                // stranger's, or an error; read and dropped, as if the port were closed.
                return discard(from: descriptor)
            }
            if flags & EPOLLERR.rawValue != 0,
                let error = UDPSocket.get(transfer.socket, level: SOL_SOCKET, option: SO_ERROR), error != 0
            {
                return socketFailed(transfer, errno: error, now: now)
            }
            if flags & EPOLLOUT.rawValue != 0 { resume(transfer) }
            if flags & EPOLLIN.rawValue != 0, owner(of: descriptor) === transfer { readTransfer(transfer, now: now) }
        }
    }

    /// The running transfer whose own socket is `descriptor`.
    func owner(of descriptor: Int32) -> EngineTransfer? {
        guard descriptor >= 0, Int(descriptor) < slotByDescriptor.count else { return nil }
        let slot = Int(slotByDescriptor[Int(descriptor)])
        return slot >= 0 ? slots[slot] : nil
    }

    func setOwner(of descriptor: Int32, to slot: Int) {
        let index = Int(descriptor)
        if index >= slotByDescriptor.count {
            slotByDescriptor.append(
                contentsOf: repeatElement(
                    -1, count: max(index + 1, 2 * slotByDescriptor.count) - slotByDescriptor.count))
        }
        slotByDescriptor[index] = Int32(slot)
    }

    func handleCommands(now: NIODeadline) {
        for command in mailbox.take() {
            switch command {
            case .beginShutdown(let grace):
                forEachRunning {
                    perform($0.endpoint.transfer.beginShutdown(grace: grace, now: now), for: $0, now: now)
                }
            case .abort:
                forEachRunning { perform($0.endpoint.transfer.abort(), for: $0, now: now) }
            case .stop:
                running = false
            case .reportActive(let collector):
                collector.add(activeTransfers(now: now))
            case .readCompleted(let slot, let generation, let failure):
                guard slot < slots.count, let transfer = slots[slot], transfer.generation == generation else {
                    continue
                }
                readCompleted(transfer, failure: failure, now: now)
            }
        }
    }

    /// The running transfers as the status page shows them.
    func activeTransfers(now: NIODeadline) -> [StatusSnapshot.Active] {
        var items: [StatusSnapshot.Active] = []
        forEachRunning { transfer in
            let machine = transfer.endpoint.transfer
            guard machine.outcome == nil else { return }
            items.append(
                .init(
                    client: transfer.client.display, file: machine.request.printableFilename,
                    requested: TransferBoard.text(machine.request.options),
                    granted: TransferBoard.text(machine.options.acknowledged),
                    bytes: machine.statistics.bytesAcknowledged, size: machine.contentSize,
                    elapsedMilliseconds: (now - transfer.started).nanoseconds / 1_000_000,
                    retransmits: machine.statistics.retransmits, state: transfer.suspended ? "waiting" : "sending"))
        }
        return items
    }

    func forEachRunning(_ body: (EngineTransfer) -> Void) {
        for slot in slots.indices {
            if let transfer = slots[slot], !transfer.lingering { body(transfer) }
        }
    }

    func fireTimers(now: NIODeadline) {
        while let entry = timers.popDue(now: now.uptimeNanoseconds) {
            let slot = Int(entry.slot)
            guard slot < slots.count, let transfer = slots[slot], transfer.generation == entry.generation,
                transfer.armed == entry.deadline
            else { continue }
            transfer.armed = nil
            if transfer.lingering {
                release(transfer)
            } else {
                perform(transfer.endpoint.transfer.timerFired(now: now), for: transfer, now: now)
            }
        }
    }
}
