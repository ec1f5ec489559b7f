import NIOConcurrencyHelpers
import Testing

@testable import TFTPCore

@Suite struct StartupGateTests {
    struct Refused: Error {}

    /// Everyone waits for the last; the release runs once, before anyone goes on.
    @Test func releasesEveryoneOnceAllHaveArrived() async throws {
        let released = NIOLockedValueBox(0)
        let gate = StartupGate(expected: 3) { released.withLockedValue { $0 += 1 } }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await gate.arrive()
                    return released.withLockedValue { $0 }
                }
            }
            for try await seen in group { #expect(seen == 1) }
        }
        #expect(released.withLockedValue { $0 } == 1)
    }

    @Test func aFailedReleaseFailsEveryone() async {
        let gate = StartupGate(expected: 2) { throw Refused() }
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do {
                        try await gate.arrive()
                        return false
                    } catch {
                        return error is Refused
                    }
                }
            }
            for await failed in group { #expect(failed) }
        }
    }

    /// A service whose sibling failed to bind is cancelled while it waits.
    @Test func waitingIsCancellable() async {
        let gate = StartupGate(expected: 2) {}
        let waiter = Task { try await gate.arrive() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }
}
