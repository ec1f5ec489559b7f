import NIOCore
import Testing

@testable import TFTPCore

@Suite struct NetASCIITests {
    private func encode(_ s: [UInt8]) -> [UInt8] { Array(NetASCII.encode(ByteBuffer(bytes: s)).readableBytesView) }

    @Test func lineFeedBecomesCRLFAndBareCRBecomesCRNUL() {
        #expect(encode(Array("a\nb\rc\r\n".utf8)) == Array("a\r\nb\r\0c\r\0\r\n".utf8))
        #expect(encode([]) == [])
    }

    @Test func decodeInvertsEncodeAcrossEverySplit() {
        let original = Array("x\r\n\r\r\n\n\ry\r".utf8)
        let wire = encode(original)
        for split in 0...wire.count {
            var decoder = NetASCII.Decoder()
            var out = decoder.decode(ByteBuffer(bytes: wire[..<split]))
            out += decoder.decode(ByteBuffer(bytes: wire[split...]))
            out += decoder.finish()
            #expect(out == original, "split at \(split)")
        }
    }

    @Test func sloppyCRIsKept() {
        var decoder = NetASCII.Decoder()
        #expect(decoder.decode(ByteBuffer(bytes: Array("a\rb".utf8))) == Array("a\rb".utf8))
    }
}
