#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

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

    /// Descriptors a server needs for `transfers` at once: two each, and room for the
    /// listeners, HTTP connections and the process's own.
    public static func needed(transfers: Int) -> Int { 2 * transfers + 64 }
}
