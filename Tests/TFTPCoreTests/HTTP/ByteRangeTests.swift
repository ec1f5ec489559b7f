import Testing

@testable import TFTPCore

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-9", ByteRange.single(0..<10)),
        ("bytes=10-", .single(10..<100)),
        ("bytes=-10", .single(90..<100)),
        ("bytes=-1000", .single(0..<100)),
        ("bytes=90-1000", .single(90..<100)),
        ("BYTES=0-0", .single(0..<1)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=0-1,5-6", .multiple),
        ("bytes=5-4", .none),
        ("bytes=a-b", .none),
        ("items=0-1", .none),
        ("bytes=", .none),
        ("bytes=99999999999999999999-", .none),
    ])
    func parse(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }

    @Test func emptyFileHasNoSatisfiableRange() {
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-5", size: 0) == .unsatisfiable)
    }
}
