import Testing

@testable import TFTPCore

@Suite struct BlockNumberTests {
    /// docs/protocol.md, "Block numbers": after 65535 comes 0.
    @Test func wireWrapsToZero() {
        #expect(BlockNumber.wire(1) == 1)
        #expect(BlockNumber.wire(65535) == 65535)
        #expect(BlockNumber.wire(65536) == 0)
        #expect(BlockNumber.wire(65537) == 1)
        #expect(BlockNumber.wire(3 * 65536 + 5) == 5)
    }

    @Test func resolveAcrossTheWrap() {
        #expect(BlockNumber.resolve(0, in: 65530, 65540) == 65536)
        #expect(BlockNumber.resolve(65535, in: 65530, 65540) == 65535)
        #expect(BlockNumber.resolve(4, in: 65530, 65540) == 65540)
        #expect(BlockNumber.resolve(5, in: 65530, 65540) == nil)
        #expect(BlockNumber.resolve(65529, in: 65530, 65540) == nil)
    }

    @Test func resolveInAFullSpanIsUnambiguous() {
        #expect(BlockNumber.resolve(0, in: 0, 65535) == 0)
        #expect(BlockNumber.resolve(65535, in: 0, 65535) == 65535)
        #expect(BlockNumber.resolve(7, in: 10, 9) == nil)
    }

    /// RFC 1350 §6: a short block ends the transfer, so sizes that are multiples of the
    /// block size take an extra, empty block; a 0-byte file is a single empty DATA 1.
    static let counts: [(Int64, Int, UInt64)] = [
        (0, 512, 1),
        (1, 512, 1),
        (511, 512, 1),
        (512, 512, 2),
        (513, 512, 2),
        (1024, 512, 3),
        (65535 * 512 + 1, 512, 65536),
        (5 << 30, 65464, 82011),
    ]

    @Test(arguments: counts)
    func blockCount(_ size: Int64, _ blockSize: Int, _ expected: UInt64) {
        #expect(BlockNumber.count(size: size, blockSize: blockSize) == expected)
    }
}
