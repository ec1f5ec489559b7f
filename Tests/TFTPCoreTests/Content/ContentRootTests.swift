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
