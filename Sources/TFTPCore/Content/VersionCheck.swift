/// When a transfer checks that its file is still the version it opened (one `fstat`,
/// ``ContentFile/isUnchanged()``; docs/operations.md, "Rolling out content"). Pure.
///
/// - At the read that reaches the file's end: the last block (and with it a complete file)
///   never leaves unless every byte read before it came from the version that was opened.
///   A file rewritten in place under a transfer therefore ends that transfer with an
///   ERROR, where tftp-hpa, atftpd and dnsmasq send a mix of both versions as one file.
/// - Before that, at most once per ``interval``: a large file rewritten early ends its
///   transfer early instead of after the whole download.
///
/// A file renamed over the name (the usual way to replace one) is another file: the
/// transfer keeps the one it opened, unchanged, and completes.
public struct VersionCheck: Sendable, Equatable {
    /// The longest a transfer goes between two checks before its last read.
    public static let interval: UInt64 = 1_000_000_000

    /// When the file was last checked (monotonic nanoseconds; at first, when it was opened).
    public private(set) var checked: UInt64

    public init(opened: UInt64) {
        checked = opened
    }

    /// Whether a read of bytes up to `end` (exclusive) of a file of `size` bytes, done at
    /// `now`, must check the file once it is done; if so, the check counts as done now.
    public mutating func due(readingUpTo end: Int64, of size: Int64, now: UInt64) -> Bool {
        guard end >= size || now &- checked >= Self.interval else { return false }
        checked = now
        return true
    }
}
