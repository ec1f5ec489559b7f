/// Where new requests go when the engine's thread count is its own to choose (no
/// `--threads`): to the first thread alone, or spread over all of them by the kernel's hash
/// (docs/architecture.md, "Engine threads that pay for themselves").
///
/// One thread serves each datagram for less CPU than two: it finds several ready sockets
/// per wake-up where two threads each sleep and wake for fewer. A second thread pays for
/// itself only when the first is saturated *and* there is a core for the second to run on;
/// when the other cores are taken (the HTTP side, the proxy, other services of a small boot
/// server, a load generator on a test bench), the second thread only takes turns with them
/// and every packet costs more. So the engine starts concentrated and spreads when the first
/// thread has been busy ``spreadAt`` of the time for two looks in a row while at least
/// ``roomToSpread`` cores were left over by everything else on the host; it concentrates
/// again once, for ``calm`` without a break, either all threads together were busy less
/// than ``concentrateBelow`` of one thread, or fewer than ``roomToStay`` cores were left.
/// The margins both ways keep a load near a threshold from flapping.
///
/// Pure: busy fractions, the cores left over and the time come in, a decision goes out.
public struct EngineSteering: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        /// New requests go to the first thread.
        case concentrated
        /// New requests go to every thread (the kernel's hash of the client's address).
        case spread
    }

    public enum Decision: Sendable, Equatable {
        case stay
        case concentrate
        case spread
    }

    /// The first thread's busy fraction (of wall time, outside `epoll_wait`) at which it is
    /// saturated.
    public var spreadAt = 0.9
    /// Cores the engine could use (all, less what every other process used) for a second
    /// thread to run beside the first.
    public var roomToSpread = 1.5
    /// Spread, fewer cores than this left over means the threads take turns.
    public var roomToStay = 1.25
    /// The busy fractions of all threads, summed, under which one thread does it all with
    /// room to spare.
    public var concentrateBelow = 0.35
    /// How long a reason to concentrate must last (nanoseconds).
    public var calm: UInt64 = 2_000_000_000

    public private(set) var mode: Mode
    private var saturatedLooks = 0
    private var reasonSince: UInt64?

    /// Concentrated unless told: an engine that cannot steer is spread for good.
    public init(mode: Mode = .concentrated) {
        self.mode = mode
    }

    /// One look: each thread's busy fraction over the interval from `start` to `now`
    /// (nanoseconds of a monotonic clock), and the cores the engine could have used over it
    /// (nil when the host does not say). A long interval counts whole: a first thread that
    /// slept through two calm seconds needs no further look to concentrate.
    public mutating func sample(busy: [Double], available: Double?, start: UInt64, now: UInt64) -> Decision {
        guard busy.count > 1 else { return .stay }
        let room = available ?? .infinity
        switch mode {
        case .concentrated:
            saturatedLooks = busy[0] >= spreadAt && room >= roomToSpread ? saturatedLooks + 1 : 0
            guard saturatedLooks >= 2 else { return .stay }
            mode = .spread
            saturatedLooks = 0
            reasonSince = nil
            return .spread
        case .spread:
            guard busy.reduce(0, +) < concentrateBelow || room < roomToStay else {
                reasonSince = nil
                return .stay
            }
            let since = reasonSince ?? start
            reasonSince = since
            guard now &- since >= calm else { return .stay }
            mode = .concentrated
            reasonSince = nil
            return .concentrate
        }
    }
}
