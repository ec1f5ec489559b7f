import Glibc
import NIOCore

/// A sink for load tests: counts bytes and, when given the expected content, compares
/// every chunk at its offset; a difference ends the transfer as a local failure.
public struct VerifyingSink: TransferSink {
    private let expected: [UInt8]?
    private var offset = 0

    public init(expected: [UInt8]?) {
        self.expected = expected
    }

    public mutating func write(_ bytes: ByteBuffer) throws(SinkError) {
        let count = bytes.readableBytes
        if let expected {
            let same = offset + count <= expected.count && Self.equal(bytes, expected, at: offset)
            guard same else { throw SinkError("content differs within bytes \(offset)..<\(offset + count)") }
        }
        offset += count
    }

    public mutating func finish() throws(SinkError) {
        if let expected, offset != expected.count {
            throw SinkError("received \(offset) bytes, expected \(expected.count)")
        }
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
