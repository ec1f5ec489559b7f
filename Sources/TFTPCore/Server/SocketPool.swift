import NIOCore

/// Transfer sockets kept after a transfer ended cleanly, to serve a later transfer instead
/// of a new socket: a boot storm of small files (PXE menus, GRUB modules, probes) then
/// costs no socket(2), bind(2), epoll registration and close(2) per file, about a fifth
/// of the server's CPU per small transfer.
///
/// A socket's port is the server's transfer ID (RFC 1350 §4), so a socket is reused only
/// after it has been idle for `quarantine`: a late or duplicated datagram of the old
/// transfer arrives while it idles (the engine reads and drops it) and never reaches the
/// next one. The kernel itself may hand a just-closed port to the next socket at once, so
/// the quarantine makes quick reuse rarer, not more frequent. Oldest first; at most
/// `capacity` idle sockets per listener; an idle socket older than `maximumIdle` is
/// closed. Pure bookkeeping: the engine does the system calls.
struct SocketPool {
    struct Entry {
        var descriptor: Int32
        /// Monotonic nanoseconds when it became idle.
        var since: UInt64
    }

    let quarantine: UInt64
    let maximumIdle: UInt64
    let capacity: Int
    private var idle: [CircularBuffer<Entry>]

    init(listeners: Int, quarantine: TimeAmount, maximumIdle: TimeAmount, capacity: Int) {
        self.quarantine = UInt64(max(0, quarantine.nanoseconds))
        self.maximumIdle = UInt64(max(0, maximumIdle.nanoseconds))
        self.capacity = capacity
        idle = Array(repeating: CircularBuffer(initialCapacity: 16), count: listeners)
    }

    /// Idle sockets of every listener.
    var count: Int { idle.reduce(0) { $0 + $1.count } }

    /// Keeps `descriptor` of `listener`; returns false when the pool is full (close it).
    mutating func put(_ descriptor: Int32, listener: Int, now: UInt64) -> Bool {
        guard capacity > 0, idle[listener].count < capacity else { return false }
        idle[listener].append(Entry(descriptor: descriptor, since: now))
        return true
    }

    /// The oldest idle socket of `listener` if it has been idle long enough.
    mutating func take(listener: Int, now: UInt64) -> Int32? {
        guard let oldest = idle[listener].first, now >= oldest.since &+ quarantine else { return nil }
        return idle[listener].removeFirst().descriptor
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
