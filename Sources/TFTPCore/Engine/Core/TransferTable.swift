/// Admission of new transfers: the running ones by client (address and port), the
/// global limit, the limit per client address, and whether the server is shutting down.
/// Pure bookkeeping; the server keeps one behind a lock, shared by its engine threads.
///
/// A client address and port usually has one transfer; it has two or more only when the
/// engine thread that runs its first decided so (another request after the client had
/// acknowledged the first: docs/protocol.md, "Transfer IDs and repeated requests").
public struct TransferTable<Client: Hashable & Sendable, Host: Hashable & Sendable>: Sendable {
    public enum Admission: Equatable, Sendable {
        case admitted
        /// The same client (address and port) already has a transfer running and the caller
        /// did not ask for one beside it: its RRQ was repeated because its timer fired first
        /// (tftp-hpa, atftpd and dnsmasq would start a second transfer). Ignored.
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
    /// Transfers holding a place, by client address and port.
    private var active: [Client: Int] = [:]
    private var total = 0
    private var perHost: [Host: Int] = [:]

    public init(maxTransfers: Int, maxPerHost: Int = .max) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxPerHost = max(1, maxPerHost)
    }

    public var count: Int { total }

    /// Transfers running for one address.
    public func count(for host: Host) -> Int { perHost[host] ?? 0 }

    /// A place for a transfer of `client`. `beside`: the caller knows the client's running
    /// transfer and wants another one next to it (or resumes a suspended one), so the
    /// client's running transfer is no reason to call it a duplicate.
    public mutating func admit(_ client: Client, host: Host, beside: Bool = false) -> Admission {
        if isShuttingDown { return .refused(.shuttingDown) }
        if !beside, active[client] != nil { return .duplicate }
        if total >= maxTransfers { return .refused(.busy) }
        if perHost[host, default: 0] >= maxPerHost { return .refused(.perClientLimit) }
        active[client, default: 0] += 1
        total += 1
        perHost[host, default: 0] += 1
        return .admitted
    }

    /// Returns true when this release leaves a shutting-down server idle.
    public mutating func release(_ client: Client, host: Host) -> Bool {
        if let running = active[client] {
            active[client] = running > 1 ? running - 1 : nil
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
