import NIOCore
import Testing

@testable import TFTPCore

@Suite struct SocketPoolTests {
    private static let ms: UInt64 = 1_000_000
    private static let q100 = TimeAmount.milliseconds(100)

    private func pool(capacity: Int = 4) -> SocketPool {
        SocketPool(listeners: 2, maximumIdle: .seconds(10), capacity: capacity)
    }

    private func put(
        _ pool: inout SocketPool, _ descriptor: Int32, listener: Int, now: UInt64, quarantine: TimeAmount = q100
    ) -> Bool {
        pool.put(descriptor, listener: listener, now: now, quarantine: quarantine)
    }

    /// A socket's port is a transfer ID: it serves again only after its quarantine.
    @Test func reuseWaitsForTheQuarantine() {
        var pool = pool()
        #expect(put(&pool, 10, listener: 0, now: 0))
        #expect(pool.take(listener: 0, now: 99 * Self.ms) == nil)
        #expect(pool.take(listener: 0, now: 100 * Self.ms) == 10)
        #expect(pool.take(listener: 0, now: 200 * Self.ms) == nil)
    }

    /// Four round trips of the transfer that used the socket, within 20 ms ... 1 s.
    @Test func quarantineFollowsTheRoundTrip() {
        #expect(SocketPool.quarantine(roundTrip: nil) == .milliseconds(20))
        #expect(SocketPool.quarantine(roundTrip: .microseconds(30)) == .milliseconds(20))
        #expect(SocketPool.quarantine(roundTrip: .milliseconds(40)) == .milliseconds(160))
        #expect(SocketPool.quarantine(roundTrip: .seconds(3)) == .seconds(1))
    }

    @Test func oldestFirstAndPerListener() {
        var pool = pool()
        #expect(put(&pool, 10, listener: 0, now: 0))
        #expect(put(&pool, 11, listener: 0, now: 5 * Self.ms))
        #expect(put(&pool, 20, listener: 1, now: 0))
        #expect(pool.take(listener: 0, now: 1_000 * Self.ms) == 10)
        #expect(pool.take(listener: 0, now: 1_000 * Self.ms) == 11)
        #expect(pool.take(listener: 0, now: 1_000 * Self.ms) == nil)
        #expect(pool.take(listener: 1, now: 1_000 * Self.ms) == 20)
    }

    @Test func fullPoolRefusesAndZeroCapacityKeepsNothing() {
        var pool = pool(capacity: 2)
        #expect(put(&pool, 1, listener: 0, now: 0))
        #expect(put(&pool, 2, listener: 0, now: 0))
        #expect(!put(&pool, 3, listener: 0, now: 0))
        #expect(put(&pool, 4, listener: 1, now: 0))
        var none = self.pool(capacity: 0)
        #expect(!put(&none, 1, listener: 0, now: 0))
    }

    @Test func idleSocketsExpireAndRemoveAllEmpties() {
        var pool = pool()
        #expect(put(&pool, 1, listener: 0, now: 0))
        #expect(put(&pool, 2, listener: 1, now: 5_000 * Self.ms))
        var closed: [Int32] = []
        pool.expire(now: 10_000 * Self.ms) { closed.append($0) }
        #expect(closed == [1])
        pool.removeAll { closed.append($0) }
        #expect(closed == [1, 2])
        #expect(pool.count == 0)
    }
}
