/// Admission of new transfers: the running ones by client (address and port), the
/// global limit, and whether the server is shutting down. Pure bookkeeping; the server
/// keeps it behind a mutex.
public struct TransferTable<Client: Hashable & Sendable>: Sendable {
    public enum Admission: Equatable, Sendable {
        case admitted
        /// The same client (address and port) already has a transfer running: its RRQ was
        /// repeated because its timer fired first (FIELD-NOTES: none of the peers checks).
        case duplicate
        /// `maxTransfers` are running.
        case full
        case shuttingDown
    }

    public let maxTransfers: Int
    public private(set) var isShuttingDown = false
    private var active: Set<Client> = []

    public init(maxTransfers: Int) {
        self.maxTransfers = max(1, maxTransfers)
    }

    public var count: Int { active.count }

    public mutating func admit(_ client: Client) -> Admission {
        if isShuttingDown { return .shuttingDown }
        if active.contains(client) { return .duplicate }
        if active.count >= maxTransfers { return .full }
        active.insert(client)
        return .admitted
    }

    /// Returns true when this release leaves a shutting-down server idle.
    public mutating func release(_ client: Client) -> Bool {
        active.remove(client)
        return isShuttingDown && active.isEmpty
    }

    /// Returns true when the server is idle already.
    public mutating func beginShutdown() -> Bool {
        isShuttingDown = true
        return active.isEmpty
    }
}
