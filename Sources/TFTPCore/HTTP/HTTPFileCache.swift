import NIOCore

/// Small files an event loop has served lately, kept in memory with what the planner needs
/// to know about them, so a hot 1 KiB script costs one `fstatat` instead of an `openat2`,
/// an `fstat`, a read and a close. Never stale: every use first asks the door what the name
/// leads to now (``ContentRoot/identity(of:)``) and serves the copy only when that is the
/// very file the door opened, unchanged (device, inode, size, modification and change
/// times, mode). A replaced, rewritten, chmod-ed or deleted file therefore misses at once
/// and goes through the door again, which applies every rule afresh.
///
/// One per event loop, used only from it (no locks). Bounded: files up to ``maxFileBytes``,
/// at most ``maxEntries`` of them and ``maxTotalBytes`` in all; the oldest go first.
final class HTTPFileCache: @unchecked Sendable {  // confined to `eventLoop`, checked in debug builds
    struct Entry {
        var identity: ContentFile.Identity
        var facts: HTTPResponsePlanner.FileFacts
        var content: ByteBuffer
    }

    static let maxFileBytes = 64 * 1024
    let maxEntries: Int
    let maxTotalBytes: Int
    private var entries: [[UInt8]: Entry] = [:]
    private var order: [[UInt8]] = []
    private var first = 0
    private var totalBytes = 0

    /// The loop this cache belongs to; nil in tests that use it from one thread.
    let eventLoop: (any EventLoop)?

    init(eventLoop: (any EventLoop)? = nil, maxEntries: Int = 1024, maxTotalBytes: Int = 16 * 1024 * 1024) {
        self.eventLoop = eventLoop
        self.maxEntries = maxEntries
        self.maxTotalBytes = maxTotalBytes
    }

    /// Request targets already decoded and sanitized into paths (a pure function of the
    /// target and the name map's rules in use, ``FilenameMap/generation``); emptied when it
    /// holds `maxEntries`, and when the rules change (a re-read map file).
    private var paths: [String: RequestPath] = [:]
    private var pathsGeneration: UInt64 = 0

    var count: Int { entries.count }

    func path(forTarget target: String, generation: UInt64) -> RequestPath? {
        guard generation == pathsGeneration else {
            paths.removeAll(keepingCapacity: true)
            pathsGeneration = generation
            return nil
        }
        return paths[target]
    }

    func remember(_ path: RequestPath, forTarget target: String, generation: UInt64) {
        guard target.utf8.count <= 512, generation == pathsGeneration else { return }
        if paths.count >= maxEntries { paths.removeAll(keepingCapacity: true) }
        paths[target] = path
    }

    /// The copy of `path`, when the name still leads to the same, unchanged file.
    func lookup(_ path: RequestPath, root: ContentRoot) -> Entry? {
        assert(eventLoop?.inEventLoop ?? true)
        guard let entry = entries[path.relativePath] else { return nil }
        guard root.identity(of: path) == entry.identity else {
            remove(path.relativePath)
            return nil
        }
        return entry
    }

    /// Keeps a copy of a file the door opened and read.
    func insert(
        _ path: RequestPath, identity: ContentFile.Identity, facts: HTTPResponsePlanner.FileFacts, content: ByteBuffer
    ) {
        assert(eventLoop?.inEventLoop ?? true)
        guard content.readableBytes <= Self.maxFileBytes else { return }
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
