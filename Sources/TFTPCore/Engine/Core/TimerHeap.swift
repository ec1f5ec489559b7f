/// The deadlines of one engine thread's transfers: a binary min-heap, so the next deadline
/// (what `epoll_wait` may sleep until) is read in O(1) and each push or pop costs O(log n).
///
/// Entries are lazy, as the machines' timers are: a transfer pushes a deadline only when
/// it is earlier than the one it already has pending, so the steady ACK/DATA flow pushes
/// nothing. An entry whose transfer has ended, or that an earlier one replaced, is simply
/// skipped when it comes due (the engine checks `slot` and `generation`). Pure: no clock.
struct TimerHeap {
    struct Entry: Equatable {
        /// When, in the monotonic clock's nanoseconds.
        var deadline: UInt64
        /// The transfer's slot in its thread's table and the generation of that slot.
        var slot: UInt32
        var generation: UInt32
    }

    private var entries: [Entry] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The earliest entry, if any.
    var first: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let top = entries.first, top.deadline <= now else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return top }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let smaller = right < entries.count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[smaller].deadline < entries[parent].deadline else { break }
            entries.swapAt(smaller, parent)
            parent = smaller
        }
        return top
    }
}
