import NIOCore

/// The decisions of one engine thread, pure (docs/architecture.md, "The engine core"): which
/// transfer a datagram belongs to, whether a request is new, a repeat or the end of the
/// client's last transfer, when a silent transfer gives its place back and how many may wait
/// silent, which timer is due, and which socket may serve again. Events go in with `now`;
/// effects (``EngineEffect``) come out, appended to the caller's buffer. No sockets, no clock,
/// no files: ``EngineThread`` performs the effects on the real ones, and the tests'
/// simulated link on a virtual network, so both run these rules and nothing else does.
///
/// The shape is quinn-proto's `Endpoint`: the core owns the table of transfers (each a
/// ``ServerEndpoint`` machine in a ``RoutedTransfer``) by slot, the routes from client
/// address to slot (single-port mode routes every datagram by them), the socket-to-slot
/// map, the timers, the queue of suspended transfers and the pool of idle sockets. The
/// admission limits, shared by every thread, come in as a ``TransferAdmission``.
///
/// The rules live in `EngineCore+Requests.swift` (the listening port, admission) and
/// `EngineCore+Transfers.swift` (a transfer's datagrams, its machine's actions, suspension,
/// its end, shutdown).
struct EngineCore<Address: TransferAddress, Admission: TransferAdmission> where Admission.Client == Address {
    typealias Effect = EngineEffect<Address>

    /// Every datagram, its own socket or not, comes from the listener (`--single-port`).
    let singlePort: Bool
    /// Suspended transfers kept listening for a late ACK; past it the oldest ends.
    let suspendedLimit: Int
    let admission: Admission

    /// The transfers by slot; nil for a free slot.
    var transfers: [RoutedTransfer<Address>?] = []
    var freeSlots: [Int] = []
    var nextGeneration: UInt32 = 1
    /// The transfer of each client address and port, by slot (the newest, when a client
    /// has several: see ``companions``).
    var routes: [Address: Int] = [:]
    /// How many transfers each client address and port has here beyond its first (one
    /// started beside an acknowledged one); empty but for such clients.
    var companions: [Address: Int] = [:]
    /// The slot whose transfer owns each descriptor; -1 for none (an idle pooled socket).
    var slotBySocket: [Int32] = []
    var timers = TimerHeap()
    /// Suspended transfers in the order they fell silent (entries of transfers that resumed
    /// or ended are skipped when met), and how many are suspended now.
    var suspendedOrder: [(slot: Int, generation: UInt32, order: UInt64)] = []
    var suspendedHead = 0
    var suspensions: UInt64 = 0
    var suspendedCount = 0
    /// Sockets of transfers that ended cleanly, kept to serve later ones.
    var pool: SocketPool

    /// - Parameters:
    ///   - listeners: how many listening sockets the thread reads (the pool is per listener).
    ///   - poolCapacity: idle sockets kept per listener (0: none; always none in single-port
    ///     mode, where transfers have no sockets of their own).
    init(
        listeners: Int, singlePort: Bool, suspendedLimit: Int, poolCapacity: Int,
        poolIdle: TimeAmount = .seconds(2), admission: Admission
    ) {
        self.singlePort = singlePort
        self.suspendedLimit = max(0, suspendedLimit)
        self.admission = admission
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

    // MARK: - Idle sockets

    /// Takes `descriptor` back out of the pool (its transfer's last ERROR waits for room in
    /// the send buffer, so it must not serve another transfer yet); false if it was not there.
    mutating func withdrawFromPool(_ descriptor: Int32) -> Bool {
        pool.remove(descriptor)
    }
}
