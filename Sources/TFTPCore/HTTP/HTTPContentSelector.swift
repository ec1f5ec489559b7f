import NIOCore

/// What answers an HTTP request for a path, decided in one place: the event loop's cache of
/// small files, then what the path is served (``BootContent``: a machine's script, or a file
/// through the door, a small one read and kept), then a directory. The planner turns the
/// choice into a response (``HTTPResponsePlanner``).
///
/// The cache is asked first only for a path whose name is all there is to it: not the
/// machines' script (rendered per machine) and not when names depend on who asks or are found
/// without regard to case (a client's own directory, `--case-insensitive`).
struct HTTPContentSelector {
    /// What answers the path.
    enum Choice {
        /// A small file in memory: from the cache, or read now (and kept), with its facts.
        case small(HTTPResponsePlanner.FileFacts, ByteBuffer)
        /// A machine's rendered script.
        case script(ByteBuffer)
        /// A file too large to keep in memory, opened: its body is sent from the file.
        case file(ContentFile, HTTPResponsePlanner.FileFacts)
        /// A directory: the planner redirects, lists or refuses it.
        case directory
        case refused(ContentError)
        /// From the origin, on its way: answered once it is complete (``file(_:path:allocator:)``).
        case arriving(ArrivingFile)
    }

    /// Bodies up to this size are read into memory (and kept in the cache) rather than sent
    /// from the file.
    static let copyLimit = HTTPFileCache.maxFileBytes

    let content: BootContent
    let cache: HTTPFileCache

    func choose(
        _ path: RequestPath, client: Requester, allocator: ByteBufferAllocator, machine: () -> MachineIdentity
    ) -> Choice {
        let script = content.isScript(path)
        let byNameAlone = content.names.isPlain && !script
        if byNameAlone, let entry = cache.lookup(path, root: content.root) {
            return .small(entry.facts, entry.content)
        }
        do {
            switch try content.open(path, client: client, machine: machine) {
            case .script(let bytes):
                return .script(bytes)
            case .file(let file):
                return self.file(file, path: path, allocator: allocator, keep: byNameAlone)
            case .cached(let file):
                return self.file(file, path: path, allocator: allocator)
            case .arriving(let arriving):
                return .arriving(arriving)
            }
        } catch .directory {
            return .directory
        } catch {
            return .refused(error)
        }
    }

    /// An opened file's answer: a small one read whole (and kept in the cache when its name
    /// alone says what it is), a larger one sent from the file.
    func file(_ file: ContentFile, path: RequestPath, allocator: ByteBufferAllocator, keep: Bool = false) -> Choice {
        let facts = HTTPResponsePlanner.FileFacts(
            name: path.lastComponent ?? [], size: file.size, modified: file.modificationTime, inode: file.inode)
        guard file.size <= Int64(Self.copyLimit), !path.hasTrailingSeparator else { return .file(file, facts) }
        var bytes = allocator.buffer(capacity: Int(file.size))
        do {
            // Read whole and checked: a file rewritten while it was read is not kept.
            try file.read(into: &bytes, offset: 0, length: Int(file.size), verify: true)
        } catch {
            return .refused(error)
        }
        if keep { cache.insert(path, identity: file.identity, facts: facts, content: bytes) }
        return .small(facts, bytes)
    }
}
