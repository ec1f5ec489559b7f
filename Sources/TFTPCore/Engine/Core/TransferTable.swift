/// Admission of new transfers: the running ones by client (address and port), the
/// global limit, the limit per client address, and whether the server is shutting down.
/// Pure bookkeeping; the server keeps one behind a lock, shared by its engine threads.
///
/// A client address and port usually has one transfer; it has two or more only when the
/// engine thread that runs its first decided so (another request after the client had
/// acknowledged the first: docs/protocol.md, "Transfer IDs and repeated requests"). The
/// table knows which thread that is, so a request of the client that reaches another
/// thread is handed to it (docs/architecture.md, "Engine threads that pay for themselves").
public struct TransferTable<Client: Hashable & Sendable, Host: Hashable & Sendable>: Sendable {
    public enum Admission: Equatable, Sendable {
        case admitted
        /// The same client (address and port) already has a transfer running, on engine
        /// thread `thread`, and the caller did not ask for one beside it. Only that thread can
        /// tell a repeat (its RRQ again, because its timer fired first: tftp-hpa, atftpd and
        /// dnsmasq would start a second transfer) from a request that supersedes the running
        /// transfer or runs beside it, so the request goes there.
        case duplicate(thread: Int)
        /// Refused with an ERROR: ``RequestRefusal/busy`` when `maxTransfers` are running,
        /// ``RequestRefusal/perClientLimit`` when `maxPerHost` run for this client's address
        /// (a flood from many ports, or a spoofed victim, cannot take the whole server),
        /// ``RequestRefusal/shuttingDown`` after ``beginShutdown()``.
        case refused(RequestRefusal)
    }

    public let maxTransfers: Int
    public let maxPerHost: Int
    public private(set) var isShuttingDown = false
    /// The places of one client address and port: how many, and the engine thread that runs
    /// them (the one that admitted the first).
    private struct Places {
        var count: Int
        var thread: Int
    }

    /// Transfers holding a place, by client address and port.
    private var active: [Client: Places] = [:]
    private var total = 0
    private var perHost: [Host: Int] = [:]

    public init(maxTransfers: Int, maxPerHost: Int = .max) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxPerHost = max(1, maxPerHost)
    }

    public var count: Int { total }

    /// Transfers running for one address.
    public func count(for host: Host) -> Int { perHost[host] ?? 0 }

    /// A place for a transfer of `client`, asked by engine thread `thread`. `beside`: the
    /// caller knows the client's running transfer and wants another one next to it (or
    /// resumes a suspended one), so the client's running transfer is no reason to call it a
    /// duplicate.
    public mutating func admit(_ client: Client, host: Host, beside: Bool = false, thread: Int = 0) -> Admission {
        if isShuttingDown { return .refused(.shuttingDown) }
        if !beside, let places = active[client] { return .duplicate(thread: places.thread) }
        if total >= maxTransfers { return .refused(.busy) }
        if perHost[host, default: 0] >= maxPerHost { return .refused(.perClientLimit) }
        active[client, default: Places(count: 0, thread: thread)].count += 1
        total += 1
        perHost[host, default: 0] += 1
        return .admitted
    }

    /// Returns true when this release leaves a shutting-down server idle.
    public mutating func release(_ client: Client, host: Host) -> Bool {
        if let places = active[client] {
            if places.count > 1 { active[client]?.count -= 1 } else { active[client] = nil }
            total -= 1
            let left = perHost[host, default: 1] - 1
            perHost[host] = left > 0 ? left : nil
        }
        return isShuttingDown && total == 0
    }

    /// Returns true when the server is idle already.
    public mutating func beginShutdown() -> Bool {
        isShuttingDown = true
        return total == 0
    }
}
