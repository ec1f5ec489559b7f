import Foundation
import Glibc

/// A temporary served root with the edge sizes and the hostile corpus (symlinks out,
/// a FIFO, a directory, a 0600 file), plus a secret outside it. Removed at deinit.
final class ServedTree: @unchecked Sendable {
    let base: String
    let root: String

    /// Sizes served by every client test: the edges around 512 and 1468.
    static let sizes = [0, 1, 511, 512, 513, 1467, 1468, 1469, 2936, 100_003]

    init(rolloverFile: Bool = false) throws {
        base = NSTemporaryDirectory() + "tftpd-it-" + UUID().uuidString
        root = base + "/root"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/sub/deeper", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        for size in Self.sizes {
            try write("size-\(size).bin", Self.randomBytes(size, seed: UInt64(size) + 1))
        }
        try write("sub/deeper/kernel", Self.randomBytes(70_000, seed: 99))
        try write("text.txt", Array("line one\nline two\n\nCR\rinside\n".utf8))
        if rolloverFile {
            // More than 65535 blocks of 512: the block number wraps to 0.
            try write("rollover.bin", Self.randomBytes(512 * 65536 + 100, seed: 7))
        }
        try write("private.bin", Array("secret".utf8), mode: 0o600)
        try Array("outside the root".utf8).withUnsafeBufferPointer {
            try Data(buffer: $0).write(to: URL(fileURLWithPath: base + "/outside/secret"))
        }
        symlink("../outside/secret", root + "/escape")
        symlink("/dev/zero", root + "/zero")
        symlink("size-1.bin", root + "/inside-link")
        mkfifo(root + "/fifo", 0o644)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    func path(_ name: String) -> String { root + "/" + name }

    func contents(_ name: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: path(name))))) ?? []
    }

    func write(_ name: String, _ bytes: [UInt8], mode: Int = 0o644) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        chmod(path(name), mode_t(mode))
    }

    /// A scratch directory for client downloads.
    func downloads() throws -> String {
        let dir = base + "/downloads-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            out[i] = UInt8(truncatingIfNeeded: state)
        }
        return out
    }
}
