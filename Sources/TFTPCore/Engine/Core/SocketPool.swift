import NIOCore

/// Transfer sockets kept after a transfer ended cleanly, to serve a later transfer instead
/// of a new socket: a boot storm of small files (PXE menus, GRUB modules, probes) then
/// costs no socket(2), bind(2), epoll registration and close(2) per file, about a fifth
/// of the server's CPU per small transfer (docs/architecture.md, "Socket reuse").
///
/// A socket's port is the server's transfer ID (RFC 1350 §4), so a socket serves again only
/// after a quarantine that outlasts any late or duplicated datagram of the transfer it
/// served: a few of that transfer's round trips (``quarantine(roundTrip:)``). What arrives
/// meanwhile is dropped when the socket is reused, and anything later is a stranger to the
/// next transfer (a different client address or port), answered with ERROR 5. The kernel
/// itself may hand a just-closed port to the very next socket; the quarantine makes such
/// immediate reuse rarer, not more frequent. Oldest first; at most `capacity` idle sockets
/// per listener; an idle socket older than `maximumIdle` is closed. Pure bookkeeping: the
/// engine does the system calls.
struct SocketPool {
    struct Entry {
        var descriptor: Int32
        /// Monotonic nanoseconds when it became idle, and from when it may serve again.
        var since: UInt64
        var reusableAt: UInt64
    }

    /// The shortest quarantine: well above a LAN round trip and a switch's duplicates.
    static let minimumQuarantine = TimeAmount.milliseconds(20)
    /// The longest: a transfer with a second of round trip is not a netboot client.
    static let maximumQuarantine = TimeAmount.seconds(1)

    /// How long a socket idles before it serves again: four round trips of the transfer
    /// that used it, within ``minimumQuarantine`` ... ``maximumQuarantine`` (the minimum
    /// when no round trip was measured: a refusal, a probe).
    static func quarantine(roundTrip: TimeAmount?) -> TimeAmount {
        let wanted = (roundTrip ?? .zero) * 4
        return min(max(wanted, minimumQuarantine), maximumQuarantine)
    }

    let maximumIdle: UInt64
    let capacity: Int
    private var idle: [CircularBuffer<Entry>]

    init(listeners: Int, maximumIdle: TimeAmount, capacity: Int) {
        self.maximumIdle = UInt64(max(0, maximumIdle.nanoseconds))
        self.capacity = capacity
        idle = Array(repeating: CircularBuffer(initialCapacity: 16), count: listeners)
    }

    /// Idle sockets of every listener.
    var count: Int { idle.reduce(0) { $0 + $1.count } }

    /// Keeps `descriptor` of `listener`, to serve again after `quarantine`; returns false
    /// when the pool is full (close it).
    mutating func put(_ descriptor: Int32, listener: Int, now: UInt64, quarantine: TimeAmount) -> Bool {
        guard capacity > 0, idle[listener].count < capacity else { return false }
        let wait = UInt64(max(0, quarantine.nanoseconds))
        idle[listener].append(Entry(descriptor: descriptor, since: now, reusableAt: now &+ wait))
        return true
    }

    /// The oldest idle socket of `listener` if its quarantine is over.
    mutating func take(listener: Int, now: UInt64) -> Int32? {
        guard let oldest = idle[listener].first, now >= oldest.reusableAt else { return nil }
        return idle[listener].removeFirst().descriptor
    }

    /// Takes `descriptor` out of the pool; false if it is not there.
    mutating func remove(_ descriptor: Int32) -> Bool {
        for listener in idle.indices {
            guard let index = idle[listener].firstIndex(where: { $0.descriptor == descriptor }) else { continue }
            idle[listener].remove(at: index)
            return true
        }
        return false
    }

    /// When the oldest idle socket expires (monotonic nanoseconds), if there is one.
    var nextExpiry: UInt64? {
        var earliest: UInt64?
        for queue in idle {
            guard let oldest = queue.first else { continue }
            earliest = min(earliest ?? .max, oldest.since &+ maximumIdle)
        }
        return earliest
    }

    /// Removes the sockets idle for longer than `maximumIdle` and gives each to `close`.
    mutating func expire(now: UInt64, close: (Int32) -> Void) {
        for listener in idle.indices {
            while let oldest = idle[listener].first, now >= oldest.since &+ maximumIdle {
                close(idle[listener].removeFirst().descriptor)
            }
        }
    }

    /// Empties the pool, giving each socket to `close`.
    mutating func removeAll(close: (Int32) -> Void) {
        for listener in idle.indices {
            while let entry = idle[listener].popFirst() { close(entry.descriptor) }
        }
    }
}
