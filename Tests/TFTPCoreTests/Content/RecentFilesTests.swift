import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// The small-file cache never serves what the door would not: a replaced, rewritten,
/// chmod-ed, deleted or symlinked-over file misses at once.
@Suite struct RecentFilesTests {
    private typealias Cache = RecentFiles<Void>

    private func open(_ name: String, _ root: ContentRoot, into cache: Cache) throws -> Cache.Entry? {
        let path = try RequestPath(Array(name.utf8))
        if let hit = cache.lookup(path, root: root) { return hit }
        let file = try root.open(path)
        let bytes = try #require(try file.copyIfCached(limit: Cache.maxFileBytes))
        cache.insert(path, identity: file.identity, facts: (), content: bytes)
        return nil
    }

    private func lookup(_ name: String, _ root: ContentRoot, _ cache: Cache) throws -> ByteBuffer? {
        cache.lookup(try RequestPath(Array(name.utf8)), root: root)?.content
    }

    @Test func hitsUntilTheFileChanges() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let cache = Cache()
        #expect(try open("file.bin", root, into: cache) == nil)
        #expect(try lookup("file.bin", root, cache)?.readableBytes == 1000)

        // Rewritten in place (same inode, new times): a miss.
        try tree.write(tree.root + "/file.bin", Array(repeating: 0x42, count: 1000))
        #expect(try lookup("file.bin", root, cache) == nil)
        _ = try open("file.bin", root, into: cache)
        #expect(try lookup("file.bin", root, cache)?.getBytes(at: 0, length: 1) == [0x42])

        // Made unreadable to others: a miss, and the door then refuses it.
        chmod(tree.root + "/file.bin", 0o600)
        #expect(try lookup("file.bin", root, cache) == nil)
        #expect(throws: ContentError.notReadable) { try root.open(try RequestPath(Array("file.bin".utf8))) }
    }

    @Test func replacedDeletedOrSymlinkedOverMisses() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let cache = Cache()
        _ = try open("sub/inner.txt", root, into: cache)
        #expect(try lookup("sub/inner.txt", root, cache) != nil)
        // Replaced by rename (another inode).
        try tree.write(tree.root + "/sub/new.txt", Array("inner\n".utf8))
        rename(tree.root + "/sub/new.txt", tree.root + "/sub/inner.txt")
        #expect(try lookup("sub/inner.txt", root, cache) == nil)
        _ = try open("sub/inner.txt", root, into: cache)
        // Deleted.
        unlink(tree.root + "/sub/inner.txt")
        #expect(try lookup("sub/inner.txt", root, cache) == nil)
        // A symlink put in place of a cached file, even to the same file, never matches.
        _ = try open("file.bin", root, into: cache)
        rename(tree.root + "/file.bin", tree.root + "/moved.bin")
        symlink("moved.bin", tree.root + "/file.bin")
        #expect(try lookup("file.bin", root, cache) == nil)
    }

    /// Refusing symlinks needs the door every time: no cache then.
    @Test func noSymlinksMeansNoCache() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root, policy: .init(followSymlinks: false))
        let cache = Cache()
        _ = try open("file.bin", root, into: cache)
        #expect(try lookup("file.bin", root, cache) == nil)
    }

    @Test func bounded() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let cache = Cache(maxEntries: 3, maxTotalBytes: 2500)
        for index in 0..<10 { try tree.write(tree.root + "/f\(index)", Array(repeating: 1, count: 1000)) }
        for index in 0..<10 { _ = try open("f\(index)", root, into: cache) }
        #expect(cache.count == 2)
        #expect(try lookup("f9", root, cache) != nil)
        #expect(try lookup("f0", root, cache) == nil)
    }

    /// `file.bin/` names a directory: never the kept `file.bin`, never kept itself.
    @Test func aNameEndingInASeparatorNeverHits() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let cache = Cache()
        _ = try open("file.bin", root, into: cache)
        #expect(try lookup("file.bin", root, cache) != nil)
        #expect(try lookup("file.bin/", root, cache) == nil)
        let file = try root.open(try RequestPath(Array("file.bin".utf8)))
        cache.insert(try RequestPath(Array("other/".utf8)), identity: file.identity, facts: (), content: ByteBuffer())
        #expect(try lookup("other/", root, cache) == nil)
    }

    /// A copy is one version: a file larger than the limit is not copied, an empty one is.
    @Test func copiesOnlyWhatFits() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        try tree.write(tree.root + "/empty", [])
        try tree.write(tree.root + "/large", Array(repeating: 7, count: Cache.maxFileBytes + 1))
        let empty = try root.open(try RequestPath(Array("empty".utf8)))
        #expect(try empty.copyIfCached(limit: Cache.maxFileBytes)?.readableBytes == 0)
        let large = try root.open(try RequestPath(Array("large".utf8)))
        #expect(try large.copyIfCached(limit: Cache.maxFileBytes) == nil)
        let cache = Cache()
        cache.insert(
            try RequestPath(Array("large".utf8)), identity: large.identity, facts: (),
            content: ByteBuffer(repeating: 7, count: Cache.maxFileBytes + 1))
        #expect(cache.count == 0)
    }
}
