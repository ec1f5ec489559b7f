import CTFTPShims
import CoreMetrics
import Glibc
import Synchronization

/// How busy each engine thread is, and — when the thread count is the engine's to choose —
/// where new requests go (``EngineSteering``): the first thread looks every
/// ``sampleInterval``, and tells the kernel through a one-instruction classic BPF program on
/// its listening sockets (SO_ATTACH_REUSEPORT_CBPF: `ret #0` sends every request of a
/// SO_REUSEPORT group to its first socket, which is the first thread's; `ret #~0` is no
/// socket, and the kernel falls back to its hash over all of them).
///
/// A transfer stays on the thread that admitted it, so concentrating moves no running
/// transfer: the other threads finish theirs and sleep.
///
/// Each thread adds the time it spent outside `epoll_wait` to its own counter before it
/// sleeps (no extra clock read: the loop reads the clock there anyway); the sampler reads
/// the counters. The metrics `tftp_engine_threads_active` and `tftp_engine_busy_ratio`
/// and the status page's Engine line come from the samples.
final class EngineLoad: Sendable {
    /// One thread's busy time in nanoseconds since it started, written by that thread only.
    final class Counter: Sendable {
        let busy = Atomic<UInt64>(0)
    }

    struct Sample: Sendable {
        var at: UInt64
        var busy: [UInt64]
        var fractions: [Double]
        /// The host's CPUs then (nil: unknown).
        var host: HostCPU?
    }

    static let sampleInterval: UInt64 = 100_000_000

    let counters: [Counter]
    /// Whether the engine steers (no `--threads`, several threads, and the kernel took the
    /// program); otherwise every thread always takes requests.
    let adaptive: Bool
    /// The first thread's socket of each listen address's SO_REUSEPORT group.
    private let steered: [Int32]
    private let state: Mutex<(steering: EngineSteering, last: Sample)>
    /// Whether requests are spread now (read by the first thread on every turn, without the lock).
    private let spread = Atomic<Bool>(false)
    private let activeGauge = Gauge(label: "tftp_engine_threads_active")
    private let busyGauges: [Gauge]

    /// What the host's CPUs did (/proc/stat and getrusage; tests give their own).
    private let readHost: @Sendable () -> HostCPU?

    /// `steered`: the first thread's socket of each group; with `adaptive`, new requests go
    /// to them alone from now on. A kernel that refuses the program leaves the engine spread.
    init(
        threads: Int, adaptive: Bool, steered: [Int32], now: UInt64,
        host: @escaping @Sendable () -> HostCPU? = HostCPU.read
    ) {
        readHost = host
        counters = (0..<threads).map { _ in Counter() }
        busyGauges = (0..<threads).map { Gauge(label: "tftp_engine_busy_ratio", dimensions: [("thread", "\($0)")]) }
        self.steered = steered
        let steers = adaptive && threads > 1 && !steered.isEmpty && Self.steer(steered, firstOnly: true)
        if adaptive && threads > 1 && !steers { _ = Self.steer(steered, firstOnly: false) }
        self.adaptive = steers
        let steering = EngineSteering(mode: steers ? .concentrated : .spread)
        spread.store(!steers, ordering: .relaxed)
        let first = Sample(
            at: now, busy: Array(repeating: 0, count: threads), fractions: [], host: steers ? host() : nil)
        state = Mutex((steering, first))
        activeGauge.record(steers ? 1 : threads)
    }

    /// The thread `index` was busy for `nanoseconds` more.
    @inline(__always)
    func add(busy nanoseconds: UInt64, thread index: Int) {
        let counter = counters[index]
        counter.busy.store(counter.busy.load(ordering: .relaxed) &+ nanoseconds, ordering: .relaxed)
    }

    /// Threads that take new requests now.
    var activeThreads: Int {
        spread.load(ordering: .relaxed) ? counters.count : 1
    }

    /// The first thread's look, at most every ``sampleInterval``: the busy fractions since
    /// the last look, the gauges, and a steering decision carried out. Returns when the
    /// next look is due.
    func sample(now: UInt64) -> UInt64 {
        let busy = counters.map { $0.busy.load(ordering: .relaxed) }
        // The host's CPUs matter only to steering: a fixed count reads nothing.
        let host = adaptive ? readHost() : nil
        let (decision, fractions) = state.withLock { state -> (EngineSteering.Decision, [Double]) in
            let last = state.last
            let fractions = Self.fractions(from: last, to: busy, now: now)
            var available: Double?
            if let host, let before = last.host {
                available = host.available(since: before, cores: Self.cores, interval: now &- last.at)
            }
            let decision =
                adaptive
                ? state.steering.sample(busy: fractions, available: available, start: last.at, now: now) : .stay
            state.last = Sample(at: now, busy: busy, fractions: fractions, host: host)
            return (decision, fractions)
        }
        for (gauge, fraction) in zip(busyGauges, fractions) { gauge.record(fraction) }
        switch decision {
        case .stay: break
        case .concentrate:
            _ = Self.steer(steered, firstOnly: true)
            spread.store(false, ordering: .relaxed)
            activeGauge.record(1)
        case .spread:
            _ = Self.steer(steered, firstOnly: false)
            spread.store(true, ordering: .relaxed)
            activeGauge.record(counters.count)
        }
        return now + Self.sampleInterval
    }

    /// Whether the first thread must wake to look even without traffic: spread, it must
    /// notice the calm that lets the others sleep.
    var wantsSamples: Bool {
        adaptive && spread.load(ordering: .relaxed)
    }

    /// What the status page shows: the threads, how many take requests, and each one's busy
    /// fraction since the last look.
    func status(now: UInt64) -> StatusSnapshot.Engine {
        let busy = counters.map { $0.busy.load(ordering: .relaxed) }
        return state.withLock { state in
            let fractions =
                now >= state.last.at + Self.sampleInterval / 2
                ? Self.fractions(from: state.last, to: busy, now: now) : state.last.fractions
            return StatusSnapshot.Engine(
                threads: counters.count, active: state.steering.mode == .concentrated ? 1 : counters.count,
                adaptive: adaptive, busy: fractions.isEmpty ? Array(repeating: 0, count: counters.count) : fractions)
        }
    }

    /// The processors online (all of them count in /proc/stat's first line).
    private static let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    private static func fractions(from last: Sample, to busy: [UInt64], now: UInt64) -> [Double] {
        let interval = Double(max(1, now &- last.at))
        return zip(busy, last.busy).map { min(1, max(0, Double($0 &- $1) / interval)) }
    }

    private static func steer(_ descriptors: [Int32], firstOnly: Bool) -> Bool {
        descriptors.allSatisfy { ctftp_reuseport_steer($0, firstOnly ? 1 : 0) == 0 }
    }
}
