import Glibc
import Testing

@testable import TFTPCore

/// The steering of a real SO_REUSEPORT group on loopback: concentrated, every datagram
/// reaches the first socket; spread, the kernel's hash reaches both.
@Suite struct EngineLoadTests {
    /// Two sockets of one group, bound the way the server binds its listeners.
    private func group() throws -> (first: Int32, second: Int32, address: PeerAddress) {
        let first = try UDPSocket.open(family: sa_family_t(AF_INET))
        try UDPSocket.bind(first, to: PeerAddress(IPv4Address("127.0.0.1")!, port: 0))
        try UDPSocket.set(first, level: SOL_SOCKET, option: SO_REUSEADDR, 1)
        try UDPSocket.set(first, level: SOL_SOCKET, option: SO_REUSEPORT, 1)
        let address = try UDPSocket.localAddress(first)
        let second = try UDPSocket.open(family: sa_family_t(AF_INET))
        try UDPSocket.set(second, level: SOL_SOCKET, option: SO_REUSEADDR, 1)
        try UDPSocket.set(second, level: SOL_SOCKET, option: SO_REUSEPORT, 1)
        try UDPSocket.bind(second, to: address)
        return (first, second, address)
    }

    /// One datagram from each of `count` fresh client ports; how many each socket got.
    private func deliver(_ count: Int, to group: (first: Int32, second: Int32, address: PeerAddress)) throws -> (
        Int, Int
    ) {
        for _ in 0..<count {
            let client = try UDPSocket.open(family: sa_family_t(AF_INET))
            defer { close(client) }
            var byte: UInt8 = 1
            let sent = group.address.withSocketAddress { sendto(client, &byte, 1, 0, $0, $1) }
            #expect(sent == 1)
        }
        var counts = (0, 0)
        var buffer = [UInt8](repeating: 0, count: 16)
        // Loopback queues each datagram before sendto returns; poll waits for stragglers.
        var fds = [pollfd(fd: group.first, events: Int16(POLLIN), revents: 0)]
        fds.append(pollfd(fd: group.second, events: Int16(POLLIN), revents: 0))
        while counts.0 + counts.1 < count, poll(&fds, 2, 2000) > 0 {
            while recv(group.first, &buffer, buffer.count, 0) > 0 { counts.0 += 1 }
            while recv(group.second, &buffer, buffer.count, 0) > 0 { counts.1 += 1 }
        }
        return counts
    }

    @Test func concentratedEverythingReachesTheFirstThreadThenSpreadBoth() throws {
        let sockets = try group()
        defer {
            close(sockets.first)
            close(sockets.second)
        }
        // The host's CPUs unknown: steering by the threads' busy time alone.
        let load = EngineLoad(threads: 2, adaptive: true, steered: [sockets.first], now: 0) { nil }
        #expect(load.adaptive)
        #expect(load.activeThreads == 1)
        let concentrated = try deliver(32, to: sockets)
        #expect(concentrated.0 == 32 && concentrated.1 == 0)

        // The first thread busy for 95 of each 100 ms, two looks in a row: it is saturated.
        load.add(busy: 95_000_000, thread: 0)
        _ = load.sample(now: EngineLoad.sampleInterval)
        #expect(load.activeThreads == 1)
        load.add(busy: 95_000_000, thread: 0)
        _ = load.sample(now: 2 * EngineLoad.sampleInterval)
        #expect(load.activeThreads == 2)
        let status = load.status(now: 2 * EngineLoad.sampleInterval)
        #expect(status.threads == 2 && status.active == 2 && status.adaptive)
        #expect(status.busy.count == 2 && status.busy[0] > 0.94 && status.busy[1] == 0)
        let spread = try deliver(32, to: sockets)
        #expect(spread.0 + spread.1 == 32)
        #expect(spread.0 > 0 && spread.1 > 0)
    }

    @Test func aFixedCountIsNeverSteered() throws {
        let sockets = try group()
        defer {
            close(sockets.first)
            close(sockets.second)
        }
        let load = EngineLoad(threads: 2, adaptive: false, steered: [sockets.first], now: 0) { nil }
        #expect(!load.adaptive && load.activeThreads == 2)
        _ = load.sample(now: 10 * EngineLoad.sampleInterval)
        #expect(load.activeThreads == 2)
        let spread = try deliver(32, to: sockets)
        #expect(spread.0 > 0 && spread.1 > 0)
    }
}
