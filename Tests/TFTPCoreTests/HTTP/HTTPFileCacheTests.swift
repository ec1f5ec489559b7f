import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// An event loop's cache: its small files are ``RecentFiles`` (tested in
/// RecentFilesTests) with the planner's facts beside them, and the targets it decoded.
@Suite struct HTTPFileCacheTests {
    @Test func keepsFactsBesideTheBytesAndMissesOnceTheFileChanges() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let cache = HTTPFileCache()
        let path = try RequestPath(Array("file.bin".utf8))
        let file = try root.open(path)
        var bytes = ByteBuffer()
        try file.read(into: &bytes, offset: 0, length: Int(file.size))
        let facts = HTTPResponsePlanner.FileFacts(
            name: Array("file.bin".utf8), size: file.size, modified: file.modificationTime, inode: file.inode)
        cache.insert(path, identity: file.identity, facts: facts, content: bytes)
        #expect(cache.lookup(path, root: root)?.facts.inode == file.inode)
        #expect(cache.lookup(path, root: root)?.content == bytes)
        try tree.write(tree.root + "/file.bin", Array(repeating: 0x42, count: 999))
        #expect(cache.lookup(path, root: root) == nil)
    }

    @Test func rememberedTargetsAreBounded() throws {
        let cache = HTTPFileCache(maxEntries: 2)
        let path = try RequestPath(Array("a".utf8))
        cache.remember(path, forTarget: "/a", generation: 0)
        cache.remember(path, forTarget: "/b", generation: 0)
        #expect(cache.path(forTarget: "/a", generation: 0) == path)
        cache.remember(path, forTarget: "/c", generation: 0)
        #expect(cache.path(forTarget: "/a", generation: 0) == nil)
        #expect(cache.path(forTarget: "/c", generation: 0) == path)
    }

    /// A re-read map file may rewrite a target to another path: what was remembered under
    /// the old rules is forgotten.
    @Test func rememberedTargetsGoWhenTheRulesChange() throws {
        let cache = HTTPFileCache()
        let path = try RequestPath(Array("a".utf8))
        cache.remember(path, forTarget: "/a", generation: 0)
        #expect(cache.path(forTarget: "/a", generation: 0) == path)
        #expect(cache.path(forTarget: "/a", generation: 1) == nil)
        cache.remember(path, forTarget: "/a", generation: 0)
        #expect(cache.path(forTarget: "/a", generation: 1) == nil)
    }
}
