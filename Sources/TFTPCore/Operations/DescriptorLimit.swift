import Glibc

/// The open-file limit (RLIMIT_NOFILE). Every running transfer holds two descriptors (its
/// socket and its file), so the common soft limit of 1024 would stop a server near 500
/// transfers, well under `--max-transfers`. Servers raise the soft limit to the hard one
/// at start, as nginx and dnsmasq do; no privilege is needed for that.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the soft limit now in force
    /// (nil when it cannot be read).
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }

    /// The soft limit in force (nil when it cannot be read).
    public static var current: Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }

    /// Grows the process's descriptor table to hold `count` descriptors now, once. The kernel
    /// grows the table as descriptors are opened (at 256, 512, 1024, ...), and in a process
    /// with several threads each growth waits for an RCU grace period: a 10–15 ms stall of
    /// the thread that opened the descriptor, measured here in the middle of a storm of small
    /// files. Done at start, the wait happens before the first request.
    public static func reserveTable(for count: Int) {
        let limit = current ?? 1024
        let highest = Int32(clamping: min(count, limit) - 1)
        guard highest > 2 else { return }
        let spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard spare >= 0 else { return }
        if dup2(spare, highest) == highest { close(highest) }
        close(spare)
    }

    /// Descriptors a server needs for `transfers` at once: two each, and room for the
    /// listeners, HTTP connections and the process's own.
    public static func needed(transfers: Int) -> Int { 2 * transfers + 64 }
}
