import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// The one door to the disk, against a real temporary tree.
@Suite struct ContentRootTests {
    /// A temporary root with one of everything; removed at deinit.
    final class Tree {
        let root: String
        let outside: String

        init() throws {
            var template = Array("/tmp/tftp-root-XXXXXX".utf8CString)
            let base = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
            root = base + "/root"
            outside = base + "/outside"
            mkdir(root, 0o755)
            mkdir(outside, 0o755)
            mkdir(root + "/sub", 0o755)
            try write(root + "/file.bin", Array(repeating: 0x41, count: 1000), mode: 0o644)
            try write(root + "/sub/inner.txt", Array("inner\n".utf8), mode: 0o644)
            try write(root + "/private", Array("secret".utf8), mode: 0o600)
            try write(outside + "/secret", Array("outside".utf8), mode: 0o644)
            symlink("sub/inner.txt", root + "/link-inside")
            symlink("../outside/secret", root + "/link-outside")
            symlink(outside + "/secret", root + "/link-absolute")
            symlink("/dev/zero", root + "/link-zero")
            symlink("../outside", root + "/dir-outside")
            mkfifo(root + "/fifo", 0o644)
        }

        deinit {
            let base = String(root.dropLast("/root".count))
            _ = base.withCString { system("rm -rf '\(String(cString: $0))'") }
        }

        func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
            guard fd >= 0 else { throw ContentError.io(errno: errno) }
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fchmod(fd, mode)
            close(fd)
        }
    }

    private func open(_ root: ContentRoot, _ name: String) throws(ContentError) -> ContentFile {
        try root.open(RequestPath(Array(name.utf8)))
    }

    static let policies: [ContentRoot.Policy] = [.init(), .init(forceFallback: true)]

    @Test(arguments: policies)
    func regularFileOpensWithItsSize(_ policy: ContentRoot.Policy) throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: policy)
        let file = try open(root, "/file.bin")
        #expect(file.size == 1000)
        var buffer = ByteBuffer()
        try file.read(into: &buffer, offset: 990, length: 10)
        #expect(Array(buffer.readableBytesView) == Array(repeating: 0x41, count: 10))
    }

    @Test func readingPastTheEndIsAnError() throws {
        let tree = try Tree()
        let file = try open(ContentRoot(path: tree.root), "file.bin")
        var buffer = ByteBuffer()
        #expect(throws: ContentError.io(errno: EIO)) { try file.read(into: &buffer, offset: 995, length: 10) }
    }

    /// A window of DATA blocks read with one preadv, each after its header's gap: full
    /// blocks, a short last one, and the empty one that ends a multiple of the block size.
    @Test(arguments: [(0, 3, 50), (500, 2, 100), (700, 3, 100), (900, 2, 0)])
    func framesLandAfterTheirGaps(_ offset: Int, _ count: Int, _ last: Int) throws {
        let tree = try Tree()
        try tree.write(tree.root + "/counting.bin", (0..<1000).map { UInt8($0 % 251) })
        let file = try open(ContentRoot(path: tree.root), "counting.bin")
        let frames = ContentFile.Frames(gap: 4, chunk: 100, count: count, last: last)
        var memory = [UInt8](repeating: 0xEE, count: frames.byteCount)
        let complete = try memory.withUnsafeMutableBytes {
            try file.readFrames(into: $0.baseAddress!, frames: frames, offset: Int64(offset))
        }
        #expect(complete)
        for index in 0..<count {
            let start = index * 104
            let length = index == count - 1 ? last : 100
            #expect(memory[start..<start + 4].allSatisfy { $0 == 0xEE }, "gap \(index) was written")
            let expected = (0..<length).map { UInt8((offset + index * 100 + $0) % 251) }
            #expect(Array(memory[start + 4..<start + 4 + length]) == expected)
        }
    }

    /// A file that shrank under a transfer is an error, never a short block.
    @Test func framesPastTheEndAreAnError() throws {
        let tree = try Tree()
        let file = try open(ContentRoot(path: tree.root), "file.bin")
        var memory = [UInt8](repeating: 0, count: 1000)
        #expect(throws: ContentError.io(errno: EIO)) {
            try memory.withUnsafeMutableBytes {
                try file.readFrames(
                    into: $0.baseAddress!, frames: .init(gap: 4, chunk: 100, count: 3, last: 100), offset: 800)
            }
        }
    }

    @Test func symlinkInsideTheRootIsFollowed() throws {
        let tree = try Tree()
        #expect(try open(ContentRoot(path: tree.root), "link-inside").size == 6)
    }

    static let escapes = ["link-outside", "link-absolute", "link-zero", "dir-outside/secret"]

    /// openat2 RESOLVE_BENEATH: the kernel refuses every way out (EXDEV).
    @Test(arguments: escapes)
    func symlinksOutOfTheRootAreRefused(_ name: String) throws {
        let tree = try Tree()
        #expect(throws: ContentError.outsideRoot) { try open(ContentRoot(path: tree.root), name) }
    }

    /// Without openat2 no symlink is followed at all: a final one reads as outside the
    /// root (ELOOP), an intermediate one as a missing directory (ENOTDIR).
    @Test(arguments: escapes + ["link-inside"])
    func fallbackRefusesEverySymlink(_ name: String) throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: .init(forceFallback: true))
        do {
            _ = try open(root, name)
            Issue.record("\(name) was opened")
        } catch {
            #expect([ContentError.outsideRoot, .notFound].contains(error))
        }
    }

    @Test func noSymlinksPolicyRefusesInsideLinksToo() throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: .init(followSymlinks: false))
        #expect(throws: ContentError.outsideRoot) { try open(root, "link-inside") }
    }

    /// tftp-hpa's traditional rule: a 0600 file is refused even to a root-run server.
    @Test(arguments: policies)
    func notWorldReadableIsRefused(_ policy: ContentRoot.Policy) throws {
        let tree = try Tree()
        #expect(throws: ContentError.notReadable) { try open(ContentRoot(path: tree.root, policy: policy), "private") }
    }

    @Test func permissivePolicyServesPrivateFiles() throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: .init(requireWorldReadable: false))
        #expect(try open(root, "private").size == 6)
    }

    /// A FIFO must be refused at once, never block the server.
    @Test(arguments: policies)
    func fifoIsRefusedWithoutBlocking(_ policy: ContentRoot.Policy) throws {
        let tree = try Tree()
        #expect(throws: ContentError.notRegularFile) { try open(ContentRoot(path: tree.root, policy: policy), "fifo") }
    }

    @Test(arguments: policies)
    func directoriesAreNotFiles(_ policy: ContentRoot.Policy) throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: policy)
        #expect(throws: ContentError.directory) { try open(root, "sub") }
        #expect(throws: ContentError.directory) { try open(root, "/") }
    }

    @Test(arguments: policies)
    func missingFiles(_ policy: ContentRoot.Policy) throws {
        let tree = try Tree()
        let root = try ContentRoot(path: tree.root, policy: policy)
        #expect(throws: ContentError.notFound) { try open(root, "nope") }
        #expect(throws: ContentError.notFound) { try open(root, "file.bin/below") }
    }

    @Test func rootMayBeASymlink() throws {
        let tree = try Tree()
        let link = tree.root + "-link"
        symlink(tree.root, link)
        defer { unlink(link) }
        #expect(try open(ContentRoot(path: link), "file.bin").size == 1000)
    }

    // MARK: - The root is a path

    /// Releases side by side and a symlink that names the current one, swapped the way
    /// operators do it (`ln -s v2 tmp && mv -T tmp current`).
    final class Releases {
        let tree: Tree
        let base: String
        let current: String

        init() throws {
            tree = try Tree()
            base = String(tree.root.dropLast("/root".count))
            current = base + "/current"
            for release in ["v1", "v2"] {
                mkdir(base + "/" + release, 0o755)
                try tree.write(base + "/\(release)/boot.cfg", Array("\(release) config\n".utf8))
            }
            symlink("v1", current)
        }

        func swap(to release: String) {
            symlink(release, base + "/next")
            rename(base + "/next", current)
        }
    }

    /// A swapped root serves the next request; a file opened before keeps its version.
    @Test(arguments: policies)
    func aSwappedRootServesTheNextRequest(_ policy: ContentRoot.Policy) throws {
        let releases = try Releases()
        let changes = Changes()
        let root = try ContentRoot(
            path: releases.current, policy: policy, recheckInterval: .zero, onChange: changes.add)
        let before = try open(root, "boot.cfg")
        releases.swap(to: "v2")
        let after = try open(root, "boot.cfg")
        #expect(contents(after) == Array("v2 config\n".utf8))
        #expect(contents(before) == Array("v1 config\n".utf8))
        #expect(changes.all == [.switched(resolved: releases.base + "/v2")])
        // Once is enough: the next lookup finds the same directory.
        _ = try open(root, "boot.cfg")
        #expect(changes.all.count == 1)
    }

    /// Within the recheck interval the directory found last serves; `recheck()` looks now.
    @Test func theRootIsLookedUpAgainAfterItsInterval() throws {
        let releases = try Releases()
        let root = try ContentRoot(path: releases.current, recheckInterval: .hours(1))
        releases.swap(to: "v2")
        #expect(contents(try open(root, "boot.cfg")) == Array("v1 config\n".utf8))
        root.recheck()
        #expect(contents(try open(root, "boot.cfg")) == Array("v2 config\n".utf8))
    }

    /// A swap done in two steps (remove, then create) leaves a moment with no root: the
    /// directory found last goes on serving, and the gap is told once.
    @Test func aRootThatVanishesKeepsServingTheLastDirectory() throws {
        let releases = try Releases()
        let changes = Changes()
        let root = try ContentRoot(path: releases.current, recheckInterval: .zero, onChange: changes.add)
        unlink(releases.current)
        #expect(contents(try open(root, "boot.cfg")) == Array("v1 config\n".utf8))
        #expect(contents(try open(root, "boot.cfg")) == Array("v1 config\n".utf8))
        #expect(changes.all == [.unreachable(errno: ENOENT)])
        symlink("v2", releases.current)
        #expect(contents(try open(root, "boot.cfg")) == Array("v2 config\n".utf8))
        #expect(changes.all.last == .switched(resolved: releases.base + "/v2"))
    }

    /// A directory on the root's path replaced (here the parent of the root).
    @Test func aDirectoryOnThePathIsFollowed() throws {
        let releases = try Releases()
        mkdir(releases.base + "/v1/tftp", 0o755)
        mkdir(releases.base + "/v2/tftp", 0o755)
        try releases.tree.write(releases.base + "/v1/tftp/x", Array("one".utf8))
        try releases.tree.write(releases.base + "/v2/tftp/x", Array("two".utf8))
        let root = try ContentRoot(path: releases.current + "/tftp", recheckInterval: .zero)
        #expect(contents(try open(root, "x")) == Array("one".utf8))
        releases.swap(to: "v2")
        #expect(contents(try open(root, "x")) == Array("two".utf8))
        #expect(root.identity(of: try RequestPath(Array("x".utf8)))?.size == 3)
    }

    /// What ``ContentRoot`` told, in order.
    final class Changes: @unchecked Sendable {
        private let lock = NSLock()
        private var changes: [ContentRoot.Change] = []
        var all: [ContentRoot.Change] { lock.withLock { changes } }
        func add(_ change: ContentRoot.Change) { lock.withLock { changes.append(change) } }
    }

    private func contents(_ file: ContentFile) -> [UInt8] {
        var buffer = ByteBuffer()
        try? file.read(into: &buffer, offset: 0, length: Int(file.size))
        return Array(buffer.readableBytesView)
    }

    @Test func missingRootIsReported() {
        #expect(throws: ContentRoot.RootError.self) { try ContentRoot(path: "/nonexistent/tftp-root") }
    }

    @Test func netasciiContentIsEncodedWithItsSize() throws {
        let tree = try Tree()
        let file = try open(ContentRoot(path: tree.root), "sub/inner.txt")
        let reader = try ContentReader.make(file, mode: .netascii)
        #expect(reader.size == 7)
        var buffer = ByteBuffer()
        try reader.read(into: &buffer, offset: 0, length: 7)
        #expect(Array(buffer.readableBytesView) == Array("inner\r\n".utf8))
    }
}
