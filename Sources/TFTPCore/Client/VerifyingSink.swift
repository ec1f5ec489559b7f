import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// A sink for load tests: counts bytes and, when given the expected content, compares
/// every chunk at its offset; a difference ends the transfer as a local failure.
///
/// Given several versions of the file (content rolled out while the load runs), a transfer
/// must be byte-identical to exactly one of them from its first byte to its last: each
/// chunk keeps the versions it still equals, and none left is a failure, so a file that
/// mixes two versions never passes. ``Tally`` counts which version each transfer was.
public struct VerifyingSink: TransferSink {
    /// How many transfers were each version, by its index in the versions given.
    public final class Tally: Sendable {
        private let box: NIOLockedValueBox<[Int]>

        public init(versions: Int) {
            box = NIOLockedValueBox(Array(repeating: 0, count: versions))
        }

        public var counts: [Int] { box.withLockedValue { $0 } }

        func add(_ version: Int) {
            box.withLockedValue { $0[version] += 1 }
        }
    }

    private let versions: [[UInt8]]
    private let tally: Tally?
    /// The versions this transfer still equals.
    private var candidates: [Int]
    private var offset = 0

    public init(expected: [UInt8]?) {
        self.init(versions: expected.map { [$0] } ?? [])
    }

    /// `versions` empty: nothing is compared.
    public init(versions: [[UInt8]], tally: Tally? = nil) {
        self.versions = versions
        self.tally = tally
        candidates = Array(versions.indices)
    }

    public mutating func write(_ bytes: ByteBuffer) throws(SinkError) {
        let count = bytes.readableBytes
        if !versions.isEmpty {
            let offset = offset
            candidates.removeAll { index in
                let expected = versions[index]
                return !(offset + count <= expected.count && Self.equal(bytes, expected, at: offset))
            }
            guard !candidates.isEmpty else {
                throw SinkError("content differs within bytes \(offset)..<\(offset + count)")
            }
        }
        offset += count
    }

    public mutating func finish() throws(SinkError) {
        guard !versions.isEmpty else { return }
        let offset = offset
        guard let version = candidates.first(where: { versions[$0].count == offset }) else {
            let sizes = candidates.map { String(versions[$0].count) }.joined(separator: " or ")
            throw SinkError("received \(offset) bytes, expected \(sizes)")
        }
        tally?.add(version)
    }

    private static func equal(_ bytes: ByteBuffer, _ expected: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeReadableBytes { received in
            expected.withUnsafeBytes { all in
                guard received.count > 0 else { return true }
                guard let base = all.baseAddress, let other = received.baseAddress else { return false }
                return memcmp(other, base + offset, received.count) == 0
            }
        }
    }
}
