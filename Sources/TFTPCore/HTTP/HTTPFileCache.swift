import NIOCore

/// An event loop's small files (``RecentFiles``, with what the planner needs to know about
/// each) and the request targets it has already decoded into paths.
///
/// One per event loop, used only from it (no locks).
final class HTTPFileCache: @unchecked Sendable {  // confined to `eventLoop`, checked in debug builds
    typealias Entry = RecentFiles<HTTPResponsePlanner.FileFacts>.Entry

    static var maxFileBytes: Int { RecentFiles<HTTPResponsePlanner.FileFacts>.maxFileBytes }
    private let files: RecentFiles<HTTPResponsePlanner.FileFacts>

    /// The loop this cache belongs to; nil in tests that use it from one thread.
    let eventLoop: (any EventLoop)?
    var maxEntries: Int { files.maxEntries }

    init(eventLoop: (any EventLoop)? = nil, maxEntries: Int = 1024, maxTotalBytes: Int = 16 * 1024 * 1024) {
        self.eventLoop = eventLoop
        files = RecentFiles(maxEntries: maxEntries, maxTotalBytes: maxTotalBytes)
    }

    /// Request targets already decoded and sanitized into paths (a pure function of the
    /// target and the name map's rules in use, ``FilenameMap/generation``); emptied when it
    /// holds `maxEntries`, and when the rules change (a re-read map file).
    private var paths: [String: RequestPath] = [:]
    private var pathsGeneration: UInt64 = 0

    var count: Int { files.count }

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
        return files.lookup(path, root: root)
    }

    /// Keeps a copy of a file the door opened and read.
    func insert(
        _ path: RequestPath, identity: ContentFile.Identity, facts: HTTPResponsePlanner.FileFacts, content: ByteBuffer
    ) {
        assert(eventLoop?.inEventLoop ?? true)
        files.insert(path, identity: identity, facts: facts, content: content)
    }
}
