/// Admission of new transfers: the running ones by client (address and port), the
/// global limit, the limit per client address, and whether the server is shutting down.
/// Pure bookkeeping; the server keeps one behind a lock, shared by its engine threads.
public struct TransferTable<Client: Hashable & Sendable, Host: Hashable & Sendable>: Sendable {
    public enum Admission: Equatable, Sendable {
        case admitted
        /// The same client (address and port) already has a transfer running: its RRQ was
        /// repeated because its timer fired first (tftp-hpa, atftpd and dnsmasq would start
        /// a second transfer). Ignored.
        case duplicate
        /// Refused with an ERROR: ``RequestRefusal/busy`` when `maxTransfers` are running,
        /// ``RequestRefusal/perClientLimit`` when `maxPerHost` run for this client's address
        /// (a flood from many ports, or a spoofed victim, cannot take the whole server),
        /// ``RequestRefusal/shuttingDown`` after ``beginShutdown()``.
        case refused(RequestRefusal)
    }

    public let maxTransfers: Int
    public let maxPerHost: Int
    public private(set) var isShuttingDown = false
    private var active: Set<Client> = []
    private var perHost: [Host: Int] = [:]

    public init(maxTransfers: Int, maxPerHost: Int = .max) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxPerHost = max(1, maxPerHost)
    }

    public var count: Int { active.count }

    /// Transfers running for one address.
    public func count(for host: Host) -> Int { perHost[host] ?? 0 }

    public mutating func admit(_ client: Client, host: Host) -> Admission {
        if isShuttingDown { return .refused(.shuttingDown) }
        if active.contains(client) { return .duplicate }
        if active.count >= maxTransfers { return .refused(.busy) }
        if perHost[host, default: 0] >= maxPerHost { return .refused(.perClientLimit) }
        active.insert(client)
        perHost[host, default: 0] += 1
        return .admitted
    }

    /// Returns true when this release leaves a shutting-down server idle.
    public mutating func release(_ client: Client, host: Host) -> Bool {
        if active.remove(client) != nil {
            let left = perHost[host, default: 1] - 1
            perHost[host] = left > 0 ? left : nil
        }
        return isShuttingDown && active.isEmpty
    }

    /// Returns true when the server is idle already.
    public mutating func beginShutdown() -> Bool {
        isShuttingDown = true
        return active.isEmpty
    }
}
