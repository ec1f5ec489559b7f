import CTFTPShims
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What every engine thread reads and never changes.
struct EngineSettings: Sendable {
    var transfer: ServerTransfer.Configuration
    var filenameMap: FilenameMap
    var nameResolver: NameResolver
    var portRange: ClosedRange<Int>?
    var singlePort: Bool
    var root: ContentRoot
    var logger: Logger
    var metrics: ServerMetrics
    /// Bytes of DATA packets a transfer reads ahead at once (at least one window).
    var readAheadBytes: Int
    /// Idle transfer sockets each thread keeps per listener for reuse (0: none).
    var socketPoolCapacity: Int
    /// Where finished transfers and refusals go for the status page (`--status`).
    var board: TransferBoard?
    /// Every file read goes to the reader threads, as if the page cache were always cold
    /// (`TFTPD_TEST_COLD_READS=1`: tests of that path, which a warm cache rarely takes).
    var deferEveryRead = false
    /// Suspended transfers (unproven clients, see ``ServerTransfer``) each thread keeps
    /// listening; past it the oldest ends. Each holds its socket and its file open.
    var suspendedLimit = 512
}

/// A listening socket as one engine thread holds it. Every thread has its own socket per
/// listen address (SO_REUSEPORT: the kernel spreads requests over the threads by the
/// client's address and port, so a client's datagrams always reach the same thread).
struct EngineListener {
    let descriptor: Int32
    /// Its address with the real port; transfer sockets bind to the same IP.
    let local: PeerAddress
    /// The MTU blksize is fitted to (without `--max-blksize`).
    let mtu: Int?
}

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
final class EngineThread: @unchecked Sendable {
    // @unchecked: after `init`, everything but `mailbox` is touched by the thread alone.

    let mailbox: EngineMailbox
    private let registry: TransferRegistry
    /// Where reads that would wait for the device go.
    private let reads: BlockingReadPool
    private let settings: EngineSettings
    private let listeners: [EngineListener]
    private let epoll: Int32

    private var slots: [EngineTransfer?] = []
    private var freeSlots: [Int] = []
    private var nextGeneration: UInt32 = 1
    /// The running transfers of this thread by client address and port (single-port mode
    /// routes the client's datagrams by it).
    private var routes: [PeerAddress: Int] = [:]
    /// Single-port mode: transfers waiting for room in each listener's send buffer.
    private var blockedOnListener: [[Int]]
    private var timers = TimerHeap()
    private var pool: SocketPool
    private var running = true
    /// Suspended transfers, oldest first (entries of transfers that resumed or ended are
    /// skipped when met), and how many are suspended now.
    private var suspendedOrder: [(slot: Int, generation: UInt32)] = []
    private var suspendedHead = 0
    private var suspendedCount = 0
    /// The kernel's drop count of each listener when it was last read, and when that was.
    private var listenerDrops: [UInt32]
    private var dropsCheckedAt: UInt64 = 0
    private var listenersReadSinceCheck = false

    /// Receive slots: room for the largest UDP datagram each, so nothing is ever cut short.
    static let receiveSlotBytes = 65536
    /// Datagrams taken from a listener with one `recvmmsg`.
    static let receiveBatch = 16
    private let receiveBuffer: UnsafeMutableRawPointer
    private let receivedLengths: UnsafeMutablePointer<Int>
    private let sources: UnsafeMutablePointer<sockaddr_storage>
    private let sourceLengths: UnsafeMutablePointer<socklen_t>
    private static let maxEvents = 256
    private let events: UnsafeMutablePointer<epoll_event>
    /// Where control packets (OACK, ERROR) are encoded before they are sent.
    private var scratch = ByteBufferAllocator().buffer(capacity: 1024)

    /// Epoll tags: the mailbox's, a listener's (this bit and its index), and a transfer
    /// socket's, which is its descriptor: the socket is found by descriptor
    /// (``slotByDescriptor``), so a pooled socket changes hands without an epoll call.
    private static let mailboxTag = UInt64.max
    private static let listenerTag: UInt64 = 1 << 62
    /// The transfer's slot for each transfer socket's descriptor; -1 for none (an idle
    /// pooled socket, or a descriptor that is not a transfer socket).
    private var slotByDescriptor: [Int32] = []
    /// How long a finished transfer waits for room to send its last ERROR.
    private static let lingerTime = TimeAmount.seconds(1)

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
    private func timeout(now: NIODeadline) -> Int32 {
        let current = now.uptimeNanoseconds
        var wake = timers.first?.deadline ?? UInt64.max
        if pool.count > 0 { wake = min(wake, current + 1_000_000_000) }
        if listenersReadSinceCheck { wake = min(wake, dropsCheckedAt + 1_000_000_000) }
        guard wake != UInt64.max else { return -1 }
        guard wake > current else { return 0 }
        return Int32(min((wake - current + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    private func dispatch(tag: UInt64, flags: UInt32, now: NIODeadline) {
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
    private func owner(of descriptor: Int32) -> EngineTransfer? {
        guard descriptor >= 0, Int(descriptor) < slotByDescriptor.count else { return nil }
        let slot = Int(slotByDescriptor[Int(descriptor)])
        return slot >= 0 ? slots[slot] : nil
    }

    private func setOwner(of descriptor: Int32, to slot: Int) {
        let index = Int(descriptor)
        if index >= slotByDescriptor.count {
            slotByDescriptor.append(
                contentsOf: repeatElement(
                    -1, count: max(index + 1, 2 * slotByDescriptor.count) - slotByDescriptor.count))
        }
        slotByDescriptor[index] = Int32(slot)
    }

    private func handleCommands(now: NIODeadline) {
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
    private func activeTransfers(now: NIODeadline) -> [StatusSnapshot.Active] {
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

    private func forEachRunning(_ body: (EngineTransfer) -> Void) {
        for slot in slots.indices {
            if let transfer = slots[slot], !transfer.lingering { body(transfer) }
        }
    }

    private func fireTimers(now: NIODeadline) {
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

    // MARK: - Listeners

    /// Adds what the kernel dropped at the listeners since the last look to the metric; at
    /// most once a second, and once more after the listeners were last read.
    private func countListenerDrops(now: UInt64) {
        listenersReadSinceCheck = false
        dropsCheckedAt = now
        for index in listeners.indices {
            guard let drops = UDPSocket.drops(listeners[index].descriptor) else { continue }
            let new = drops &- listenerDrops[index]
            listenerDrops[index] = drops
            if new > 0 { settings.metrics.listenerDropped(Int(new)) }
        }
    }

    private func readListener(_ index: Int, now: NIODeadline) {
        listenersReadSinceCheck = true
        let descriptor = listeners[index].descriptor
        // A few batches per turn at most, so one busy listener cannot starve the transfers;
        // epoll is level-triggered and reports the rest next turn.
        for _ in 0..<4 {
            let count = ctftp_receive_batch(
                descriptor, receiveBuffer, Self.receiveSlotBytes, UInt32(Self.receiveBatch), receivedLengths, sources,
                sourceLengths)
            guard count > 0 else { return }
            for message in 0..<Int(count) {
                let bytes = UnsafeRawBufferPointer(
                    start: receiveBuffer + message * Self.receiveSlotBytes, count: receivedLengths[message])
                guard let source = PeerAddress(sources + message, length: sourceLengths[message]),
                    source.isAcceptableClient
                else { continue }
                listenerDatagram(bytes, from: source, listener: index, now: now)
            }
            if count < Self.receiveBatch { return }
        }
    }

    private func listenerDatagram(
        _ bytes: UnsafeRawBufferPointer, from source: PeerAddress, listener: Int, now: NIODeadline
    ) {
        if settings.singlePort, let slot = routes[source], let transfer = slots[slot], !transfer.lingering {
            let decoded = Packet.decode(bytes)
            // A request from the client goes through admission, as in the normal mode: a
            // repeat reaches the transfer there, another request ends a suspended one.
            guard case .success(.readRequest) = decoded else {
                return deliver(decoded, from: source, to: transfer, now: now)
            }
        }
        switch ListenerDecision.decide(Packet.decode(bytes)) {
        case .ignore:
            settings.logger.debug("ignored datagram", metadata: ["client": "\(source.display)"])
        case .refuse(let refusal):
            refuse(refusal, client: source, listener: listener)
        case .startTransfer(let request):
            admit(request, from: source, listener: listener, now: now, drained: false)
        }
    }

    /// Admission of a request. A client's address and port that still has a transfer here
    /// is a repeat, unless that transfer has just ended: a client that reuses its port at
    /// once (the kernel may hand the same ephemeral port to its next socket) sent its last
    /// ACK before its new request, but the two wait on different sockets. So the running
    /// transfer's socket is read first, and the request is judged after that, as the
    /// client sent them. A repeat goes to the transfer's machine (before the client has
    /// acknowledged anything it answers it again). A suspended transfer holds no slot: the
    /// same request is its repeat; another one ends it and is admitted.
    private func admit(_ request: Request, from source: PeerAddress, listener: Int, now: NIODeadline, drained: Bool) {
        if let slot = routes[source], let transfer = slots[slot], transfer.suspended {
            if request == transfer.endpoint.transfer.request {
                return deliver(.success(.readRequest(request)), from: source, to: transfer, now: now)
            }
            perform(transfer.endpoint.transfer.endSuspension(), for: transfer, now: now)
        }
        switch registry.admit(source) {
        case .admitted:
            start(request, client: source, listener: listener, now: now)
        case .duplicate:
            if !drained, let slot = routes[source], let transfer = slots[slot], transfer.ownsSocket {
                drain(transfer, now: now)
                if slots[slot] !== transfer {
                    return admit(request, from: source, listener: listener, now: now, drained: true)
                }
            }
            settings.logger.debug("repeated request", metadata: ["client": "\(source.display)"])
            if let slot = routes[source], let transfer = slots[slot], !transfer.lingering {
                deliver(.success(.readRequest(request)), from: source, to: transfer, now: now)
            }
        case .refused(let refusal):
            refuse(refusal, client: source, listener: listener)
        }
    }

    /// Reads what waits on a transfer's socket (a few datagrams at most).
    private func drain(_ transfer: EngineTransfer, now: NIODeadline) {
        for _ in 0..<8 {
            guard slots[transfer.slot] === transfer, readTransfer(transfer, now: now) else { return }
        }
    }

    /// The listener answers with the refusal's ERROR. Best effort: if the listener's send
    /// buffer is full the client's retransmitted request is answered instead.
    private func refuse(_ refusal: RequestRefusal, client: PeerAddress, listener: Int) {
        settings.metrics.requestRejected(refusal.reason)
        settings.board?.refused(refusal, client: client)
        let level: Logger.Level
        switch refusal {
        case .busy, .perClientLimit, .noTransferPort: level = .notice
        case .shuttingDown: level = .debug
        case .writeRequest, .malformed: level = .info
        }
        settings.logger.log(
            level: level, "refused request", metadata: ["client": "\(client.display)", "reason": "\(refusal.reason)"])
        _ = sendControl(refusal.reply, to: client, on: listeners[listener].descriptor)
    }

    /// An admitted request: open the content through the one door, bind the transfer's
    /// socket (or route the client in single-port mode), and start the machine.
    private func start(_ request: Request, client: PeerAddress, listener: Int, now: NIODeadline) {
        let map = settings.filenameMap
        let resolver = settings.nameResolver
        let root = settings.root
        let content = Result { () throws(ContentError) -> ContentReader in
            let requester = client.requester
            let path = try RequestPath(try map.apply(request.filename, client: requester))
            return try ContentReader.make(try resolver.open(path, client: requester, in: root), mode: request.mode)
        }
        var configuration = settings.transfer
        if let mtu = listeners[listener].mtu {
            configuration.limits.maxBlockSize = min(
                configuration.limits.maxBlockSize, InterfaceMTU.blockSize(mtu: mtu, client: client))
        }
        let socket: Int32
        var pooled = false
        if settings.singlePort {
            socket = listeners[listener].descriptor
        } else if let reused = pool.take(listener: listener, now: now.uptimeNanoseconds) {
            socket = reused
            pooled = true
        } else {
            do {
                socket = try openTransferSocket(near: listeners[listener].local)
            } catch {
                registry.release(client)
                settings.logger.error(
                    "cannot bind a transfer socket", metadata: ["client": "\(client.display)", "error": "\(error)"])
                return refuse(.noTransferPort, client: client, listener: listener)
            }
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
        }
        let transfer = EngineTransfer(
            slot: slot, generation: nextGeneration, socket: socket, ownsSocket: !settings.singlePort,
            listener: listener,
            endpoint: ServerEndpoint(
                client: client, transfer: ServerTransfer(request: request, configuration: configuration)),
            content: try? content.get(), started: now, segmentationOffload: UDPSocket.segmentationOffload)
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        slots[slot] = transfer
        routes[client] = slot
        if !settings.singlePort {
            // A pooled socket is registered already; a new one is added.
            setOwner(of: socket, to: slot)
            if !pooled, ctftp_epoll_add(epoll, socket, EPOLLIN.rawValue, UInt64(socket)) != 0 {
                return socketFailed(transfer, errno: errno, now: now)
            }
        }
        perform(transfer.endpoint.transfer.start(content: content.map(\.size), now: now), for: transfer, now: now)
    }

    /// The transfer's own socket on the listener's IP: a port the kernel picks, or a free
    /// one of `--port-range`, tried from a random start so that threads rarely collide.
    private func openTransferSocket(near local: PeerAddress) throws(UDPSocket.Failure) -> Int32 {
        let socket = try UDPSocket.open(family: local.family)
        do throws(UDPSocket.Failure) {
            if let range = settings.portRange {
                let count = range.count
                let first = Int.random(in: 0..<count)
                var lastError = UDPSocket.Failure(operation: "bind", errno: EADDRINUSE)
                for step in 0..<count {
                    do throws(UDPSocket.Failure) {
                        try UDPSocket.bind(
                            socket, to: local.with(port: UInt16(range.lowerBound + (first + step) % count)))
                        return socket
                    } catch  where error.errno == EADDRINUSE || error.errno == EACCES {
                        lastError = error
                    }
                }
                throw lastError
            }
            try UDPSocket.bind(socket, to: local.with(port: 0))
            return socket
        } catch {
            close(socket)
            throw error
        }
    }

    // MARK: - Transfers

    /// Reads one datagram from the transfer's socket and handles it; false when none waited.
    /// One per readiness: a transfer socket has at most one ACK waiting, and epoll
    /// (level-triggered) reports anything else on the next turn.
    @discardableResult
    private func readTransfer(_ transfer: EngineTransfer, now: NIODeadline) -> Bool {
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        let source = sources + Self.receiveBatch
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = recvfrom(
            transfer.socket, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT),
            UnsafeMutableRawPointer(source).assumingMemoryBound(to: sockaddr.self), &length)
        if count < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return false }
            socketFailed(transfer, errno: error, now: now)
            return false
        }
        guard !transfer.lingering, let address = PeerAddress(source, length: length), address.isAcceptableClient else {
            return true
        }
        deliver(
            Packet.decode(UnsafeRawBufferPointer(start: buffer, count: count)), from: address, to: transfer, now: now)
        return true
    }

    /// A datagram for the transfer, from its client or a stranger, to its endpoint. A
    /// suspended transfer takes a slot again before the machine sees what its client sent
    /// (and goes without the datagram if the server is full), and gives it back if the
    /// machine is still suspended afterwards.
    private func deliver(
        _ decoded: Result<Packet, PacketDecodingError>, from source: PeerAddress, to transfer: EngineTransfer,
        now: NIODeadline
    ) {
        let wasSuspended = transfer.suspended && source == transfer.client
        if wasSuspended {
            guard case .admitted = registry.admit(source, resuming: true) else { return }
            setSuspended(transfer, false)
        }
        switch transfer.endpoint.received(decoded, from: source, now: now) {
        case .perform(let action):
            perform(action, for: transfer, now: now)
        case .reply(let packet, let stranger):
            _ = sendControl(packet, to: stranger, on: transfer.socket)
        case .ignore:
            break
        }
        if wasSuspended, slots[transfer.slot] === transfer, transfer.endpoint.transfer.isSuspended {
            registry.release(source)
            setSuspended(transfer, true)
        }
    }

    /// The machine fell silent (its client never proved its address): the slot goes back,
    /// nothing is pending, the read-ahead goes; the socket and the file stay for a late ACK.
    /// Past the thread's limit of suspended transfers, the oldest one ends.
    private func suspend(_ transfer: EngineTransfer) {
        settings.logger.debug(
            "suspended: the client has not acknowledged the first packet",
            metadata: ["client": "\(transfer.client.display)"])
        registry.release(transfer.client)
        setSuspended(transfer, true)
        transfer.pending = nil
        if transfer.waitsForWritable { unblock(transfer) }
        transfer.windowAfterRead = nil
        if transfer.readInFlight == nil { transfer.dropFrames() }
        suspendedOrder.append((transfer.slot, transfer.generation))
        while suspendedCount > settings.suspendedLimit, suspendedHead < suspendedOrder.count {
            let (slot, generation) = suspendedOrder[suspendedHead]
            suspendedHead += 1
            if let oldest = slots[slot], oldest.generation == generation, oldest.suspended {
                perform(oldest.endpoint.transfer.endSuspension(), for: oldest, now: NIODeadline.now())
            }
        }
        if suspendedHead > 1024, suspendedHead * 2 > suspendedOrder.count {
            suspendedOrder.removeFirst(suspendedHead)
            suspendedHead = 0
        }
    }

    private func setSuspended(_ transfer: EngineTransfer, _ suspended: Bool) {
        guard transfer.suspended != suspended else { return }
        transfer.suspended = suspended
        suspendedCount += suspended ? 1 : -1
    }

    /// The socket failed under the transfer (aborted by the kernel, as `ss -K` does): the
    /// machine ends it, and the line says why.
    private func socketFailed(_ transfer: EngineTransfer, errno error: Int32, now: NIODeadline) {
        guard !transfer.lingering else { return release(transfer) }
        let failure = UDPSocket.Failure(operation: "transfer socket", errno: error)
        perform(transfer.endpoint.transfer.socketFailed(), for: transfer, now: now, socketError: failure)
    }

    /// Performs one of the machine's actions; nothing is decided here.
    private func perform(
        _ action: ServerTransfer.Action, for transfer: EngineTransfer, now: NIODeadline,
        socketError: UDPSocket.Failure? = nil
    ) {
        switch action {
        case .send(let packet, let deadline):
            transfer.pending = nil
            if sendControl(packet, to: transfer.client, on: transfer.socket) == EAGAIN {
                transfer.pending = .packet(Array(scratch.readableBytesView))
                block(transfer)
            }
            arm(transfer, deadline)
        case .sendWindow(let window, let deadline):
            do {
                try send(window, for: transfer)
            } catch {
                return perform(transfer.endpoint.transfer.contentFailed(error), for: transfer, now: now)
            }
            arm(transfer, deadline)
        case .armTimer(let deadline):
            arm(transfer, deadline)
        case .suspend(let deadline):
            suspend(transfer)
            arm(transfer, deadline)
        case .wait:
            break
        case .finish(let outcome, let packet):
            finish(transfer, outcome: outcome, packet: packet, now: now, socketError: socketError)
        }
    }

    /// Lazy timers: a transfer's pending deadline that is no later than the new one stays
    /// (the machine re-arms when it fires early), so steady progress pushes nothing.
    private func arm(_ transfer: EngineTransfer, _ deadline: NIODeadline) {
        let nanoseconds = deadline.uptimeNanoseconds
        if let armed = transfer.armed, armed <= nanoseconds { return }
        transfer.armed = nanoseconds
        timers.push(.init(deadline: nanoseconds, slot: UInt32(transfer.slot), generation: transfer.generation))
    }

    /// Encodes `packet` into the scratch buffer and sends it; returns 0 or the errno.
    private func sendControl(_ packet: Packet, to address: PeerAddress, on socket: Int32) -> Int32 {
        scratch.clear()
        packet.encode(into: &scratch)
        return scratch.withUnsafeReadableBytes { UDPSocket.send(socket, $0, to: address) }
    }

    /// Sends a window from the read-ahead frames (reading ahead first if they do not hold
    /// it). A full send buffer leaves the rest pending until the socket is writable; a read
    /// that waits for the device leaves the window for when the read is done.
    private func send(_ window: ServerTransfer.DataWindow, for transfer: EngineTransfer) throws(ContentError) {
        transfer.pending = nil
        if transfer.readInFlight != nil {
            transfer.windowAfterRead = window
            return
        }
        let frameSize = 4 + window.blockSize
        if transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) == nil {
            guard try readAhead(from: window, for: transfer) else {
                transfer.windowAfterRead = window
                return
            }
        }
        transmit(window, from: 0, for: transfer)
    }

    /// Reads the window's blocks and those after it, up to the read-ahead size and the
    /// end of the content, with one preadv that does not wait for the device. If the bytes
    /// are not in the page cache, a reader thread reads them and this returns false.
    private func readAhead(from window: ServerTransfer.DataWindow, for transfer: EngineTransfer) throws(ContentError)
        -> Bool
    {
        guard let content = transfer.content else { throw .io(errno: EIO) }
        let frameSize = 4 + window.blockSize
        let blocksInContent = UInt64(window.contentSize / Int64(window.blockSize)) + 1
        let left = Int(min(blocksInContent - window.first + 1, UInt64(Int32.max)))
        let count = min(left, max(window.count, settings.readAheadBytes / frameSize, 1))
        if (transfer.buffer?.capacity ?? 0) < count * frameSize {
            transfer.buffer = FrameBuffer(capacity: count * frameSize)
        }
        guard let buffer = transfer.buffer else { throw .io(errno: ENOMEM) }
        var extended = window
        extended.count = count
        transfer.cachedCount = 0
        let frames = ContentFile.Frames(
            gap: 4, chunk: window.blockSize, count: count, last: extended.block(count - 1).length)
        let offset = extended.block(0).offset
        let deferred: Bool
        if case .file = content, settings.deferEveryRead {
            deferred = true
        } else {
            deferred = try !content.readFrames(into: buffer.base, frames: frames, offset: offset, cachedOnly: true)
        }
        guard !deferred else {
            transfer.readInFlight = extended
            settings.metrics.coldRead()
            settings.logger.debug(
                "read waits for the device",
                metadata: ["client": "\(transfer.client.display)", "block": "\(window.first)"])
            reads.submit(
                .init(
                    content: content, buffer: buffer, frames: frames, offset: offset, mailbox: mailbox,
                    slot: transfer.slot, generation: transfer.generation))
            return false
        }
        framesRead(extended, for: transfer)
        return true
    }

    /// The blocks of `frames` are in the buffer: their DATA headers go into the gaps, and
    /// they are the transfer's read-ahead.
    private func framesRead(_ frames: ServerTransfer.DataWindow, for transfer: EngineTransfer) {
        guard let base = transfer.buffer?.base else { return }
        let frameSize = 4 + frames.blockSize
        for index in 0..<frames.count {
            let frame = base + index * frameSize
            frame.storeBytes(of: Opcode.data.rawValue.bigEndian, as: UInt16.self)
            frame.storeBytes(of: frames.block(index).wire.bigEndian, toByteOffset: 2, as: UInt16.self)
        }
        transfer.cachedFirst = frames.first
        transfer.cachedCount = frames.count
        transfer.cachedFrameSize = frameSize
    }

    /// A reader thread finished the transfer's read: the window the machine wants now goes
    /// out (reading further ahead if it has moved past these frames).
    private func readCompleted(_ transfer: EngineTransfer, failure: ContentError?, now: NIODeadline) {
        guard let read = transfer.readInFlight else { return }
        transfer.readInFlight = nil
        if let failure {
            return perform(transfer.endpoint.transfer.contentFailed(failure), for: transfer, now: now)
        }
        framesRead(read, for: transfer)
        guard let window = transfer.windowAfterRead else { return }
        transfer.windowAfterRead = nil
        do {
            try send(window, for: transfer)
        } catch {
            perform(transfer.endpoint.transfer.contentFailed(error), for: transfer, now: now)
        }
    }

    /// Sends the window's datagrams from the `sent`-th on: GSO messages, one sendmmsg per
    /// 64 messages. EAGAIN keeps the rest pending; other errors lose the datagrams (the
    /// retransmission timer covers them), except that a refused GSO is retried without it.
    private func transmit(_ window: ServerTransfer.DataWindow, from sent: Int, for transfer: EngineTransfer) {
        let frameSize = 4 + window.blockSize
        guard let base = transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) else { return }
        let last = 4 + window.block(window.count - 1).length
        var sent = sent
        while sent < window.count {
            let result = transfer.client.withSocketAddress { address, length in
                ctftp_send_frames(
                    transfer.socket, address, length, base + sent * frameSize, frameSize, window.count - sent, last,
                    transfer.segmentationOffload ? 1 : 0)
            }
            if result >= 0 {
                sent += Int(result)
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK {
                transfer.pending = .window(window, sent: sent)
                return block(transfer)
            }
            if (error == EMSGSIZE || error == EINVAL || error == EIO) && transfer.segmentationOffload
                && window.count - sent > 1
            {
                transfer.segmentationOffload = false
                continue
            }
            return
        }
    }

    // MARK: - Backpressure

    /// Waits for room in the transfer's send buffer (EPOLLOUT on its socket or, in
    /// single-port mode, on the listener's).
    private func block(_ transfer: EngineTransfer) {
        guard !transfer.waitsForWritable else { return }
        transfer.waitsForWritable = true
        settings.metrics.sendBufferFull()
        if transfer.ownsSocket {
            _ = ctftp_epoll_modify(
                epoll, transfer.socket, EPOLLIN.rawValue | EPOLLOUT.rawValue, UInt64(transfer.socket))
        } else {
            if blockedOnListener[transfer.listener].isEmpty {
                let descriptor = listeners[transfer.listener].descriptor
                _ = ctftp_epoll_modify(
                    epoll, descriptor, EPOLLIN.rawValue | EPOLLOUT.rawValue,
                    Self.listenerTag | UInt64(transfer.listener))
            }
            blockedOnListener[transfer.listener].append(transfer.slot)
        }
    }

    private func unblock(_ transfer: EngineTransfer) {
        guard transfer.waitsForWritable else { return }
        transfer.waitsForWritable = false
        if transfer.ownsSocket {
            _ = ctftp_epoll_modify(epoll, transfer.socket, EPOLLIN.rawValue, UInt64(transfer.socket))
        } else {
            blockedOnListener[transfer.listener].removeAll { $0 == transfer.slot }
            if blockedOnListener[transfer.listener].isEmpty {
                let descriptor = listeners[transfer.listener].descriptor
                _ = ctftp_epoll_modify(
                    epoll, descriptor, EPOLLIN.rawValue, Self.listenerTag | UInt64(transfer.listener))
            }
        }
    }

    /// The socket has room again: send what was pending.
    private func resume(_ transfer: EngineTransfer) {
        if let pending = transfer.pending {
            transfer.pending = nil
            switch pending {
            case .window(let window, let sent):
                transmit(window, from: sent, for: transfer)
            case .packet(let bytes):
                let error = bytes.withUnsafeBytes { UDPSocket.send(transfer.socket, $0, to: transfer.client) }
                if error == EAGAIN { transfer.pending = pending }
            }
        }
        guard transfer.pending == nil else { return }
        unblock(transfer)
        if transfer.lingering { release(transfer) }
    }

    private func resumeBlocked(onListener index: Int) {
        for slot in blockedOnListener[index] {
            guard let transfer = slots[slot] else { continue }
            resume(transfer)
            if transfer.pending != nil { return }
        }
    }

    // MARK: - The end

    /// The machine ended the transfer: its slot in the admission table is free first (so a
    /// reader of the log never sees a finished transfer still counted), then the line, then
    /// the last ERROR, then the socket goes.
    private func finish(
        _ transfer: EngineTransfer, outcome: ServerTransfer.Outcome, packet: Packet?, now: NIODeadline,
        socketError: UDPSocket.Failure?
    ) {
        if transfer.suspended {
            // Its slot went back when it was suspended.
            setSuspended(transfer, false)
        } else {
            registry.release(transfer.client)
        }
        let report = TransferReport(
            client: transfer.client, request: transfer.endpoint.transfer.request, outcome: outcome,
            options: transfer.endpoint.transfer.options, statistics: transfer.endpoint.transfer.statistics,
            duration: now - transfer.started, socketError: socketError)
        report.record(in: settings.metrics)
        settings.board?.record(report)
        report.log(to: settings.logger)
        if routes[transfer.client] == transfer.slot { routes[transfer.client] = nil }
        transfer.pending = nil
        transfer.dropFrames()
        if let packet, socketError == nil, sendControl(packet, to: transfer.client, on: transfer.socket) == EAGAIN {
            // Keep the socket until the ERROR is out, or for a second at most.
            transfer.pending = .packet(Array(scratch.readableBytesView))
            transfer.lingering = true
            block(transfer)
            transfer.armed = nil
            arm(transfer, now + Self.lingerTime)
            return
        }
        let reusable: Bool
        switch outcome {
        case .completed, .sizeProbe, .refused, .unacknowledged: reusable = socketError == nil
        case .peerError, .timedOut, .protocolViolation, .readFailed, .aborted: reusable = false
        }
        release(transfer, reusable: reusable, roundTrip: transfer.endpoint.transfer.roundTripEstimate)
    }

    /// Reads and drops what waits on an idle pooled socket (a handful at most per event).
    private func discard(from descriptor: Int32) {
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        for _ in 0..<8 {
            guard recv(descriptor, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT)) >= 0 else { return }
        }
    }

    /// Frees the transfer's slot and closes its socket (epoll forgets a closed descriptor).
    private func release(_ transfer: EngineTransfer, reusable: Bool = false, roundTrip: TimeAmount? = nil) {
        if transfer.waitsForWritable { unblock(transfer) }
        if transfer.ownsSocket {
            setOwner(of: transfer.socket, to: -1)
            // A pooled socket stays registered with epoll; what reaches it while it idles is
            // dropped (``discard(from:)``).
            if reusable,
                pool.put(
                    transfer.socket, listener: transfer.listener, now: NIODeadline.now().uptimeNanoseconds,
                    quarantine: SocketPool.quarantine(roundTrip: roundTrip))
            {
                // Kept for a later transfer.
            } else {
                close(transfer.socket)
            }
        } else if routes[transfer.client] == transfer.slot {
            routes[transfer.client] = nil
        }
        slots[transfer.slot] = nil
        freeSlots.append(transfer.slot)
    }
}
