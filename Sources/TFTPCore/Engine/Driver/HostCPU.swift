import Glibc

/// What the host's processors did, read for the engine's steering (``EngineSteering``): the
/// first line of /proc/stat (every CPU's time in ticks, busy and idle) and this process's
/// own CPU time (getrusage). From two readings: how many cores everything else left over.
struct HostCPU: Sendable, Equatable {
    /// Ticks of all CPUs together: busy (user, nice, system, irq, softirq, steal) and all.
    var busyTicks: UInt64
    var totalTicks: UInt64
    /// This process's CPU time, user and system.
    var ownNanoseconds: UInt64

    /// Now, or nil where /proc/stat cannot be read.
    static func read() -> HostCPU? {
        let descriptor = open("/proc/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer -> HostCPU? in
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            guard count > 0 else { return nil }
            var usage = rusage()
            guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
            let own =
                UInt64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000_000
                + UInt64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000
            return parse(UnsafeBufferPointer(rebasing: buffer[..<count]), ownNanoseconds: own)
        }
    }

    /// The aggregate `cpu` line: user nice system idle iowait irq softirq steal ...
    static func parse(_ text: some Collection<UInt8>, ownNanoseconds: UInt64) -> HostCPU? {
        let line = text.prefix { $0 != UInt8(ascii: "\n") }
        let fields = line.split(separator: UInt8(ascii: " "))
        guard fields.count >= 5, fields[0].elementsEqual("cpu".utf8) else { return nil }
        var values: [UInt64] = []
        for field in fields.dropFirst().prefix(8) {
            guard let value = UInt64(String(decoding: field, as: UTF8.self)) else { return nil }
            values.append(value)
        }
        let total = values.reduce(0, +)
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        return HostCPU(busyTicks: total - idle, totalTicks: total, ownNanoseconds: ownNanoseconds)
    }

    /// Cores this process could have used between `earlier` and `self` (`interval`
    /// nanoseconds): all `cores` less what every other process kept busy. Nil when too
    /// little time passed for the kernel's ticks to say.
    func available(since earlier: HostCPU, cores: Int, interval: UInt64) -> Double? {
        guard totalTicks > earlier.totalTicks, interval > 0 else { return nil }
        let busyCores = Double(busyTicks &- earlier.busyTicks) / Double(totalTicks - earlier.totalTicks) * Double(cores)
        let ownCores = Double(ownNanoseconds &- earlier.ownNanoseconds) / Double(interval)
        return Double(cores) - max(0, busyCores - ownCores)
    }
}
