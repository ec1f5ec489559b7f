import Testing

@testable import TFTPCore

/// The queue of suspended transfers: oldest first, skipping entries of transfers that
/// resumed or ended, bounded by its limit.
@Suite struct SuspendedQueueTests {
    @Test func theOldestStillSuspendedGoesFirstPastTheLimit() {
        var queue = SuspendedQueue(limit: 2)
        let first = queue.enqueue(slot: 0, generation: 1)
        _ = queue.enqueue(slot: 1, generation: 1)
        #expect(queue.oldestOverLimit { _ in true } == nil)
        // Slot 0 resumed and left: its entry is skipped.
        queue.leave()
        _ = queue.enqueue(slot: 2, generation: 1)
        _ = queue.enqueue(slot: 3, generation: 1)
        let oldest = queue.oldestOverLimit { $0.order != first }
        #expect(oldest?.slot == 1)
        queue.leave()
        #expect(queue.oldestOverLimit { _ in true } == nil)
        #expect(queue.count == 2)
    }

    /// A transfer that resumed and fell silent again in its old place counts again.
    @Test func aTransferRejoinsInItsOldPlace() {
        var queue = SuspendedQueue(limit: 0)
        _ = queue.enqueue(slot: 4, generation: 9)
        queue.leave()
        queue.rejoin()
        #expect(queue.count == 1)
        #expect(queue.oldestOverLimit { _ in true } == SuspendedQueue.Entry(slot: 4, generation: 9, order: 1))
    }
}
