import Testing

@testable import TFTPCore

@Suite struct HostCPUTests {
    @Test func readsTheAggregateLine() throws {
        let text = "cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 50 2 25 400 10 1 1 5 0 0\n"
        let reading = try #require(HostCPU.parse(Array(text.utf8), ownNanoseconds: 7))
        #expect(reading.totalTicks == 990 && reading.busyTicks == 170 && reading.ownNanoseconds == 7)
        #expect(HostCPU.parse(Array("intr 1 2 3\n".utf8), ownNanoseconds: 0) == nil)
        #expect(HostCPU.parse(Array("cpu  1 2 x 4 5\n".utf8), ownNanoseconds: 0) == nil)
    }

    @Test func coresLeftOverAreAllLessWhatOthersUsed() throws {
        // 2 cores, 1 s: the host busy 1.5 cores' worth, of which this process 0.5: others 1.
        let before = HostCPU(busyTicks: 0, totalTicks: 0, ownNanoseconds: 0)
        let after = HostCPU(busyTicks: 150, totalTicks: 200, ownNanoseconds: 500_000_000)
        let available = try #require(after.available(since: before, cores: 2, interval: 1_000_000_000))
        #expect(abs(available - 1.0) < 1e-9)
        #expect(before.available(since: before, cores: 2, interval: 1_000_000_000) == nil)
        #expect(HostCPU.read() != nil)
    }
}
