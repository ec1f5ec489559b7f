import Testing

@testable import TFTPCore

@Suite struct TimerHeapTests {
    private func entry(_ deadline: UInt64, slot: UInt32 = 0) -> TimerHeap.Entry {
        .init(deadline: deadline, slot: slot, generation: 1)
    }

    @Test func popsInDeadlineOrderOnlyWhenDue() {
        var heap = TimerHeap()
        for deadline: UInt64 in [50, 10, 40, 30, 20] { heap.push(entry(deadline)) }
        #expect(heap.first?.deadline == 10)
        #expect(heap.popDue(now: 9) == nil)
        #expect(heap.popDue(now: 25)?.deadline == 10)
        #expect(heap.popDue(now: 25)?.deadline == 20)
        #expect(heap.popDue(now: 25) == nil)
        #expect(heap.count == 3)
    }

    @Test func equalDeadlinesAllCome() {
        var heap = TimerHeap()
        for slot: UInt32 in 0..<5 { heap.push(entry(7, slot: slot)) }
        var slots: [UInt32] = []
        while let due = heap.popDue(now: 7) { slots.append(due.slot) }
        #expect(slots.sorted() == [0, 1, 2, 3, 4])
        #expect(heap.isEmpty)
    }

    /// Random pushes and pops against a sorted reference, deterministic by seed.
    @Test func matchesASortedReference() {
        var random = SeededRandom(seed: 42)
        var heap = TimerHeap()
        var reference: [UInt64] = []
        var now: UInt64 = 0
        for _ in 0..<20_000 {
            if random.chance(0.6) {
                let deadline = now + UInt64.random(in: 0...1_000, using: &random)
                heap.push(entry(deadline))
                reference.append(deadline)
            } else {
                now += UInt64.random(in: 0...300, using: &random)
                reference.sort()
                while let due = heap.popDue(now: now) {
                    #expect(due.deadline == reference.removeFirst())
                }
                #expect(reference.first.map { $0 > now } ?? true)
            }
        }
        #expect(heap.count == reference.count)
    }
}
