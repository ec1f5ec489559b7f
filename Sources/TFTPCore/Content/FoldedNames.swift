import Synchronization

/// The names of directories, by their ASCII-case-folded form, for ``NameResolver``: each
/// directory read once and used again while ``ContentRoot/identity(of:)`` says it is the
/// same, unchanged directory (a name added or removed changes its modification time).
/// Where several names fold alike, the smallest by bytes is kept. At most 256 directories.
final class FoldedNames: Sendable {
    struct Directory: Sendable {
        var identity: ContentFile.Identity?
        var exact: Set<[UInt8]>
        var byFoldedName: [[UInt8]: [UInt8]]
    }

    private let directories = Mutex<[[UInt8]: Directory]>([:])
    static let maxDirectories = 256

    func names(in directory: RequestPath, root: ContentRoot) throws(ContentError) -> Directory {
        let key = directory.relativePath
        let identity = root.identity(of: directory)
        if let identity, let known = directories.withLock({ $0[key] }), known.identity == identity {
            return known
        }
        let names = try root.names(in: directory)
        var byFoldedName: [[UInt8]: [UInt8]] = [:]
        for name in names {
            let folded = NameResolver.fold(name)
            if let other = byFoldedName[folded], other.lexicographicallyPrecedes(name) { continue }
            byFoldedName[folded] = name
        }
        let read = Directory(identity: identity, exact: Set(names), byFoldedName: byFoldedName)
        if identity != nil {
            directories.withLock {
                if $0.count >= Self.maxDirectories { $0.removeAll(keepingCapacity: true) }
                $0[key] = read
            }
        }
        return read
    }
}
