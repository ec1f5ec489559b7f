/// The suspended transfers of one engine core, oldest first (docs/architecture.md,
/// "Suspended transfers"): each transfer whose client never acknowledged its first packet
/// joins at the back with its own place number; one that resumes or ends leaves (its entry
/// is skipped when met); past the cap the oldest still suspended ends. Pure bookkeeping: what
/// a place number means to a transfer is the core's (``RoutedTransfer/Phase``).
struct SuspendedQueue {
    struct Entry: Equatable {
        var slot: Int
        var generation: UInt32
        /// The transfer's place: a resumed transfer that falls silent again gets a new one,
        /// so its old entry no longer names it.
        var order: UInt64
    }

    /// How many may be suspended at once; past it the oldest ends.
    let limit: Int
    private var entries: [Entry] = []
    private var head = 0
    private var issued: UInt64 = 0
    /// How many are suspended now.
    private(set) var count = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// A transfer falls silent: its place at the back.
    mutating func enqueue(slot: Int, generation: UInt32) -> UInt64 {
        issued += 1
        count += 1
        entries.append(Entry(slot: slot, generation: generation, order: issued))
        return issued
    }

    /// A suspended transfer resumed or ended: it no longer counts (its entry stays, skipped).
    mutating func leave() {
        count -= 1
    }

    /// A transfer that resumed falls silent again in its old place (nothing else resumed it).
    mutating func rejoin() {
        count += 1
    }

    /// While more than ``limit`` are suspended: the oldest entry that still names a
    /// suspended transfer (`isSuspended` says, for the core), for the core to end; nil when
    /// the count is within the limit or no entry is left. Entries that no longer name a
    /// suspended transfer are skipped on the way.
    mutating func oldestOverLimit(isSuspended: (Entry) -> Bool) -> Entry? {
        defer {
            // Entries before the head are spent: drop them once they are the larger part.
            if head > 1024, head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
        while count > limit, head < entries.count {
            let oldest = entries[head]
            head += 1
            if isSuspended(oldest) { return oldest }
        }
        return nil
    }
}
