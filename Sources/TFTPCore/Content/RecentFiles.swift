import NIOCore

/// Small files served lately, kept in memory by their path so that a hot one costs one
/// `fstatat` instead of an `openat2`, an `fstat`, a read, a second `fstat` and a close
/// (docs/architecture.md, "Small files from memory"). Both protocols keep one per thread
/// that serves: each HTTP event loop (``HTTPFileCache``) and each TFTP engine thread.
///
/// Never stale, as far as the kernel's file times tell (docs/architecture.md, "Small files
/// from memory", names the one limit): every use first asks the door what the name leads
/// to now (``ContentRoot/identity(of:)``) and serves the copy only when that is the very
/// file the door opened, unchanged (device, inode, size, modification and change times,
/// mode). A replaced, rewritten, chmod-ed or deleted file, or a root that now leads
/// elsewhere, therefore misses at once and goes through the door again, which applies
/// every rule afresh. A copy is one version by construction: it is kept only when the file
/// was still the version opened once every byte was read.
///
/// Used from one thread only (no locks). Bounded: files up to ``maxFileBytes``, at most
/// `maxEntries` of them and `maxTotalBytes` in all; the oldest go first. `Facts` is what
/// the user keeps beside the bytes (HTTP: the validators it answers with).
final class RecentFiles<Facts>: @unchecked Sendable {  // confined to one thread by its owner
    struct Entry {
        var identity: ContentFile.Identity
        var facts: Facts
        var content: ByteBuffer
    }

    static var maxFileBytes: Int { 64 * 1024 }
    let maxEntries: Int
    let maxTotalBytes: Int
    private var entries: [[UInt8]: Entry] = [:]
    private var order: [[UInt8]] = []
    private var first = 0
    private var totalBytes = 0

    init(maxEntries: Int = 1024, maxTotalBytes: Int = 16 * 1024 * 1024) {
        self.maxEntries = maxEntries
        self.maxTotalBytes = maxTotalBytes
    }

    var count: Int { entries.count }

    /// The copy of `path`, when the name still leads to the same, unchanged file. A name
    /// ending in a separator is never found: HTTP answers `boot.cfg/` as a directory, and
    /// whatever a protocol makes of it, the door decides.
    func lookup(_ path: RequestPath, root: ContentRoot) -> Entry? {
        guard !path.hasTrailingSeparator, let entry = entries[path.relativePath] else { return nil }
        guard root.identity(of: path) == entry.identity else {
            remove(path.relativePath)
            return nil
        }
        return entry
    }

    /// Keeps a copy of a file the door opened and read whole as the version `identity` says.
    func insert(_ path: RequestPath, identity: ContentFile.Identity, facts: Facts, content: ByteBuffer) {
        guard content.readableBytes <= Self.maxFileBytes, !path.hasTrailingSeparator else { return }
        let key = path.relativePath
        remove(key)
        while entries.count >= maxEntries || totalBytes + content.readableBytes > maxTotalBytes, first < order.count {
            let oldest = order[first]
            first += 1
            remove(oldest)
        }
        if first > 4096 && first * 2 > order.count {
            order.removeFirst(first)
            first = 0
        }
        entries[key] = Entry(identity: identity, facts: facts, content: content)
        order.append(key)
        totalBytes += content.readableBytes
    }

    private func remove(_ key: [UInt8]) {
        if let old = entries.removeValue(forKey: key) { totalBytes -= old.content.readableBytes }
    }
}
