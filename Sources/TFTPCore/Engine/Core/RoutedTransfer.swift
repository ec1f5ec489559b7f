import NIOCore

/// One transfer as its engine core holds it: the pure endpoint (machine and transfer-ID
/// rule), where it sends from, when it started, whether it holds a place in the admission
/// table, and its pending timer entry. The driver keeps the rest (its file, its read-ahead,
/// what waits for room in the send buffer) in a record of its own under the same slot.
///
/// A class, owned by its core alone: every datagram reads and changes it in place, where a
/// value would be copied with its request and options on each access (measured: twice the
/// instructions per packet of a storm). Its mutable state is unchecked for exclusive access
/// for the same reason as the core's place in ``EngineThread``: one thread, and the core
/// never reenters itself.
final class RoutedTransfer<Address: TransferAddress> {
    /// Whether the transfer holds a place in the admission table.
    enum Phase: Equatable, Sendable {
        /// Running: it counts against `--max-transfers` and `--max-per-client`.
        case running
        /// Its client never acknowledged the first packet: the machine is silent and the
        /// transfer holds no place, only its socket and file, listening for a late ACK
        /// (docs/protocol.md, "Requests nobody acknowledges"). `order` is its place in the
        /// thread's queue of suspensions (the oldest ends first past the cap).
        case suspended(order: UInt64)
    }

    /// The generation of its slot: timer entries and completed reads carry it, so a stale
    /// one never reaches a later transfer in the same slot.
    let generation: UInt32
    let socket: TransferSocket
    /// The listener that admitted it.
    let listener: Int
    let started: NIODeadline
    // `endpoint`, `phase`, and `armed`: the deadline (monotonic nanoseconds) of its pending
    // timer entry, if it has one.
    #if DEBUG
        // Debug and test builds check every access; release builds trust the rule above.
        var endpoint: ServerEndpoint<Address>
        var phase: Phase
        var armed: UInt64?
    #else
        @exclusivity(unchecked) var endpoint: ServerEndpoint<Address>
        @exclusivity(unchecked) var phase: Phase
        @exclusivity(unchecked) var armed: UInt64?
    #endif

    init(
        endpoint: ServerEndpoint<Address>, generation: UInt32, socket: TransferSocket, listener: Int,
        started: NIODeadline, phase: Phase
    ) {
        self.endpoint = endpoint
        self.generation = generation
        self.socket = socket
        self.listener = listener
        self.started = started
        self.phase = phase
    }

    var client: Address { endpoint.client }
    var request: Request { endpoint.transfer.request }

    var isSuspended: Bool {
        if case .suspended = phase { return true }
        return false
    }
}
