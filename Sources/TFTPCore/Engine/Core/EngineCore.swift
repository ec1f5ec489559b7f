import NIOCore

/// The decisions of one engine thread, pure (docs/architecture.md, "The engine core"): which
/// transfer a datagram belongs to, whether a request is new, a repeat, beside a running
/// transfer or the end of an unacknowledged one, when a silent transfer gives its place back
/// and how many may wait silent, which timer is due, which socket may serve again, how large
/// a block a listener's link carries, and how long a last ERROR may wait for room. Events go
/// in with `now`; effects (``EngineEffect``) come out, appended to the caller's buffer. No
/// sockets, no clock, no files: ``EngineThread`` performs the effects on the real ones, and
/// the tests' simulated link on a virtual network, so both run these rules and nothing else
/// does.
///
/// The shape is quinn-proto's `Endpoint`: the core owns the table of transfers (each a
/// ``ServerEndpoint`` machine in a ``RoutedTransfer``) by slot, the routes from client
/// address to slot (single-port mode routes every datagram by them), the socket-to-slot
/// map, the timers, the queue of suspended transfers, the pool of idle sockets, the request
/// waiting while a socket is read, and the count of openings handed to the driver. All of it
/// is changed here only, through the books below; the admission limits, shared by every
/// thread, come in as a ``TransferAdmission``. Not copyable: one core, one thread, one table.
///
/// The rules live in `EngineCore+Requests.swift` (the listening port, admission) and
/// `EngineCore+Transfers.swift` (a transfer's datagrams, its machine's actions, suspension,
/// its end, shutdown).
struct EngineCore<Address: TransferAddress, Admission: TransferAdmission>: ~Copyable
where Admission.Client == Address {
    typealias Effect = EngineEffect<Address>

    /// A request judged only once its client's running transfer's socket has been read.
    struct Draining {
        var slot: Int
        var request: Request
        var client: Address
        var listener: Int
        /// Another engine thread handed it here (``handedOver(_:from:listener:now:into:)``).
        var handedOver: Bool
    }

    /// Every datagram, its own socket or not, comes from the listener (`--single-port`).
    let singlePort: Bool
    let admission: Admission
    /// Which of the engine's threads this core decides for (in the admission table, the
    /// owner of the transfers it admits).
    let thread: Int
    /// Each listener's link MTU, when blocks are to fit it (nil: no clamp).
    let listenerMTUs: [Int?]

    /// The transfers by slot; nil for a free slot.
    private(set) var transfers: [RoutedTransfer<Address>?] = []
    private(set) var freeSlots: [Int] = []
    private var generations: UInt32 = 0
    /// The transfer of each client address and port, by slot (the newest, when a client
    /// has several: see ``companions``).
    private(set) var routes: [Address: Int] = [:]
    /// How many transfers each client address and port has here beyond its first (one
    /// started beside an acknowledged one); empty but for such clients.
    private(set) var companions: [Address: Int] = [:]
    /// The slot whose transfer owns each descriptor; -1 for none (an idle pooled socket).
    private var slotBySocket: [Int32] = []
    private var timers = TimerHeap()
    private(set) var suspended: SuspendedQueue
    /// Sockets of transfers that ended cleanly, kept to serve later ones.
    private var pool: SocketPool
    /// The request waiting while its client's transfer's socket is read.
    private var draining: Draining?
    /// Openings handed to the driver (``EngineEffect/open(_:)``) and not yet begun: the
    /// driver begins each (``begin(_:socket:content:configuration:now:into:)``), which refuses
    /// it if its socket could not be had. Zero after every event a driver performed whole.
    private(set) var openingsInFlight = 0

    /// - Parameters:
    ///   - listeners: how many listening sockets the thread reads (the pool is per listener).
    ///   - poolCapacity: idle sockets kept per listener (0: none; always none in single-port
    ///     mode, where transfers have no sockets of their own).
    ///   - listenerMTUs: each listener's link MTU when blocks are to fit it.
    ///   - thread: which of the engine's threads this core decides for.
    init(
        listeners: Int, singlePort: Bool, suspendedLimit: Int, poolCapacity: Int,
        poolIdle: TimeAmount = .seconds(2), listenerMTUs: [Int?] = [], admission: Admission, thread: Int = 0
    ) {
        self.singlePort = singlePort
        self.admission = admission
        self.thread = thread
        self.listenerMTUs = listenerMTUs
        suspended = SuspendedQueue(limit: suspendedLimit)
        pool = SocketPool(listeners: listeners, maximumIdle: poolIdle, capacity: singlePort ? 0 : poolCapacity)
    }

    // MARK: - Queries

    /// The transfer in `slot`, if any.
    subscript(slot: Int) -> RoutedTransfer<Address>? {
        slot >= 0 && slot < transfers.count ? transfers[slot] : nil
    }

    /// Whether `slot` still holds the transfer of that `generation` (a completed read, or a
    /// command about a transfer, may come after it ended).
    func isCurrent(slot: Int, generation: UInt32) -> Bool {
        self[slot]?.generation == generation
    }

    /// The slot of the running transfer that owns `descriptor`, or nil (an idle pooled
    /// socket, or not a transfer socket).
    func owner(ofSocket descriptor: Int32) -> Int? {
        guard descriptor >= 0, Int(descriptor) < slotBySocket.count else { return nil }
        let slot = Int(slotBySocket[Int(descriptor)])
        return slot >= 0 ? slot : nil
    }

    /// Transfers in the table (running and suspended).
    var count: Int { transfers.count - freeSlots.count }

    /// Idle sockets in the pool.
    var idleSockets: Int { pool.count }

    /// The next moment something is due: a transfer's deadline or an idle socket's expiry
    /// (monotonic nanoseconds).
    var nextDeadline: UInt64? {
        switch (timers.first?.deadline, pool.nextExpiry) {
        case (let timer?, let expiry?): min(timer, expiry)
        case (let timer?, nil): timer
        case (nil, let expiry?): expiry
        case (nil, nil): nil
        }
    }

    // MARK: - Time

    /// Fires every deadline due at `now`. Timers are lazy: an entry whose transfer has ended,
    /// or that a later arming replaced, is skipped (``TimerHeap``).
    mutating func fireTimers(now: NIODeadline, into effects: inout [Effect]) {
        while let entry = timers.popDue(now: now.uptimeNanoseconds) {
            let slot = Int(entry.slot)
            guard let transfer = self[slot], transfer.generation == entry.generation, transfer.armed == entry.deadline
            else { continue }
            transfer.armed = nil
            apply(transfer.endpoint.transfer.timerFired(now: now), slot: slot, now: now, into: &effects)
        }
        pool.expire(now: now.uptimeNanoseconds) { effects.append(.close($0)) }
    }

    /// Lazy timers: a transfer's pending deadline that is no later than the new one stays
    /// (the machine re-arms when it fires early), so steady progress pushes nothing.
    mutating func arm(_ slot: Int, _ deadline: NIODeadline) {
        guard let transfer = self[slot] else { return }
        let nanoseconds = deadline.uptimeNanoseconds
        if let armed = transfer.armed, armed <= nanoseconds { return }
        transfer.armed = nanoseconds
        timers.push(.init(deadline: nanoseconds, slot: UInt32(slot), generation: transfer.generation))
    }

    // MARK: - The table

    /// The next slot generation (never 0, so a zeroed entry never matches).
    mutating func nextGeneration() -> UInt32 {
        generations = generations == UInt32.max ? 1 : generations + 1
        return generations
    }

    /// Puts a new transfer in a free slot and routes its client and socket to it.
    mutating func insert(_ transfer: RoutedTransfer<Address>) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            transfers[slot] = transfer
        } else {
            slot = transfers.count
            transfers.append(transfer)
        }
        if routes.updateValue(slot, forKey: transfer.client) != nil { companions[transfer.client, default: 0] += 1 }
        if case .own(let descriptor) = transfer.socket { setOwner(of: descriptor, to: slot) }
        return slot
    }

    /// Takes the transfer out of its slot, its route and its socket's entry. A client whose
    /// other transfer still runs here is routed to it (the newest of them).
    mutating func remove(_ slot: Int) -> RoutedTransfer<Address>? {
        guard let transfer = self[slot] else { return nil }
        transfers[slot] = nil
        freeSlots.append(slot)
        let client = transfer.client
        if let others = companions[client] {
            companions[client] = others > 1 ? others - 1 : nil
            if routes[client] == slot {
                var newest: (slot: Int, started: NIODeadline)?
                for case (let index, let other?) in transfers.enumerated()
                where other.client == client && other.started >= (newest?.started ?? .uptimeNanoseconds(0)) {
                    newest = (index, other.started)
                }
                routes[client] = newest?.slot
            }
        } else if routes[client] == slot {
            routes[client] = nil
        }
        if case .own(let descriptor) = transfer.socket { setOwner(of: descriptor, to: -1) }
        return transfer
    }

    private mutating func setOwner(of descriptor: Int32, to slot: Int) {
        let index = Int(descriptor)
        guard index >= 0 else { return }
        if index >= slotBySocket.count {
            slotBySocket.append(
                contentsOf: repeatElement(-1, count: max(index + 1, 2 * slotBySocket.count) - slotBySocket.count))
        }
        slotBySocket[index] = Int32(slot)
    }

    // MARK: - Suspensions

    /// The transfer in `slot` falls silent: its place at the back of the queue.
    mutating func enqueueSuspension(_ slot: Int) {
        guard let transfer = self[slot] else { return }
        transfer.phase = .suspended(order: suspended.enqueue(slot: slot, generation: transfer.generation))
    }

    /// A suspended transfer takes a place again (a late datagram from its client).
    mutating func resumeSuspension(_ slot: Int) {
        guard let transfer = self[slot], transfer.isSuspended else { return }
        transfer.phase = .running
        suspended.leave()
    }

    /// A transfer that resumed falls silent again, in its old place (`phase`).
    mutating func resuspend(_ slot: Int, in phase: RoutedTransfer<Address>.Phase) {
        guard let transfer = self[slot], !transfer.isSuspended else { return }
        transfer.phase = phase
        suspended.rejoin()
    }

    /// A suspended transfer ends.
    mutating func suspendedTransferEnds() {
        suspended.leave()
    }

    /// Past the cap: the oldest transfer still suspended, to end.
    mutating func oldestSuspendedOverLimit() -> Int? {
        let transfers = transfers
        return suspended.oldestOverLimit { entry in
            guard entry.slot < transfers.count, let waiting = transfers[entry.slot] else { return false }
            return waiting.generation == entry.generation && waiting.phase == .suspended(order: entry.order)
        }?.slot
    }

    // MARK: - Idle sockets

    /// An idle socket of `listener` whose quarantine is over, for a new transfer.
    mutating func takeIdleSocket(listener: Int, now: NIODeadline) -> Int32? {
        pool.take(listener: listener, now: now.uptimeNanoseconds)
    }

    /// Keeps the socket of an ended transfer, to serve again after its quarantine.
    mutating func keepIdleSocket(_ descriptor: Int32, listener: Int, now: NIODeadline, roundTrip: TimeAmount?)
        -> Bool
    {
        pool.put(
            descriptor, listener: listener, now: now.uptimeNanoseconds,
            quarantine: SocketPool.quarantine(roundTrip: roundTrip))
    }

    /// Takes `descriptor` back out of the pool, if it is there.
    mutating func withdrawIdleSocket(_ descriptor: Int32) {
        _ = pool.remove(descriptor)
    }

    /// Closes every idle socket (the thread stops).
    mutating func closeIdleSockets(into effects: inout [Effect]) {
        pool.removeAll { effects.append(.close($0)) }
    }

    // MARK: - Draining and openings

    /// Remembers `request` while the socket of its client's transfer is read.
    mutating func startDraining(_ waiting: Draining) {
        draining = waiting
    }

    /// The request that waited for the drain, once.
    mutating func finishDraining() -> Draining? {
        defer { draining = nil }
        return draining
    }

    /// An opening goes to the driver.
    mutating func openingIssued() {
        openingsInFlight += 1
    }

    /// The driver began (or refused) an opening.
    mutating func openingSettled() {
        openingsInFlight -= 1
    }
}
