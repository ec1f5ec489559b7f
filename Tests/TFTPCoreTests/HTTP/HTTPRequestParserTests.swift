import NIOCore
import NIOHTTP1
import Testing

@testable import TFTPCore

/// The request parser, bytes in and heads out, no sockets: the shapes it accepts, every
/// refusal with its status, bodies skipped whole, and any split of the bytes giving the
/// same result.
@Suite struct HTTPRequestParserTests {
    /// Everything the bytes yield, fed in pieces of `chunk` bytes.
    private func parse(_ text: String, chunk: Int = .max, maxHeadBytes: Int = 1024) -> [HTTPRequestParser.Next] {
        var parser = HTTPRequestParser(maxHeadBytes: maxHeadBytes, maxFields: 8)
        var results: [HTTPRequestParser.Next] = []
        var buffer = ByteBuffer()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset &+ chunk)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while true {
                let next = parser.next(&buffer)
                guard next != .needMore else { break }
                results.append(next)
                if case .failure = next { return results }
            }
        }
        return results
    }

    private func heads(_ results: [HTTPRequestParser.Next]) -> [HTTPRequestHead] {
        results.compactMap { if case .request(let head) = $0 { head } else { nil } }
    }

    private func failure(_ text: String) -> HTTPResponseStatus? {
        for result in parse(text) { if case .failure(let failure) = result { return failure.status } }
        return nil
    }

    @Test func aRequest() throws {
        let head = try #require(
            heads(parse("GET /boot.ipxe?x=1 HTTP/1.1\r\nHost: b\r\nRange:  bytes=0-9 \r\n\r\n")).first)
        #expect(head.method == .GET)
        #expect(head.uri == "/boot.ipxe?x=1")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == ["b"])
        #expect(head.headers["range"] == ["bytes=0-9"])
    }

    /// Pipelined requests with bodies of both framings come out in order, whatever the
    /// pieces the bytes arrive in.
    @Test(arguments: [1, 2, 3, 7, 64, Int.max])
    func pipelinedWithBodies(_ chunk: Int) {
        let text =
            "\r\nGET /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            + "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n"
            + "HEAD /c HTTP/1.0\r\n\r\n"
        let results = parse(text, chunk: chunk)
        #expect(heads(results).map(\.uri) == ["/a", "/b", "/c"])
        #expect(heads(results).map(\.method) == [.GET, .GET, .HEAD])
        #expect(results.count == 3)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: t\n\n", 400),  // bare LF
        ("GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400),  // bare CR
        ("GET / HTTP/1.1\r\nHost: t\r\nX: 1\r\n folded\r\n\r\n", 400),  // obs-fold
        ("GET / HTTP/1.1\r\n Host: t\r\n\r\n", 400),  // whitespace before the first field
        ("GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),  // whitespace before the colon
        ("GET / HTTP/1.1\r\nHost: t\r\nX: a\u{0}b\r\n\r\n", 400),  // NUL
        ("GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400),  // two spaces
        ("GET / HTTP/1.1 \r\nHost: t\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/x.y\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / HTTP/0.9\r\n\r\n", 505),
        ("GET /file\r\n\r\n", 505),  // HTTP/0.9, no version
        ("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),  // chunk size
        ("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400),  // chunk end
        ("GET /" + String(repeating: "a", count: 2000) + " HTTP/1.1\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: 2000) + "\r\n\r\n", 431),
        ("GET / HTTP/1.1\r\n" + String(repeating: "X: 1\r\n", count: 9) + "\r\n", 431),
    ])
    func refusals(_ text: String, _ status: Int) {
        #expect(failure(text)?.code == UInt(status))
    }

    /// A head over the limit is refused before its end arrives.
    @Test func oversizedHeadsAreRefusedEarly() {
        #expect(failure("GET /" + String(repeating: "a", count: 2000)) == .uriTooLong)
        #expect(failure("GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: 2000)) == .requestHeaderFieldsTooLarge)
    }

    @Test func acceptedShapes() {
        // Equal Content-Lengths, a higher minor version (read as 1.1), absolute-form, an empty Host.
        let results = parse(
            "GET /a HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nxy" + "GET http://h/b HTTP/1.2\r\nHost:\r\n\r\n"
                + "BREW /c HTTP/1.1\r\n\r\n")
        let parsed = heads(results)
        #expect(parsed.map(\.uri) == ["/a", "http://h/b", "/c"])
        #expect(parsed[1].version == .http1_1)
        #expect(parsed[1].headers["host"] == [""])
        #expect(parsed[2].method == .RAW(value: "BREW"))
    }

    /// RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding is delivered (the planner refuses it)
    /// and nothing after it is read, not even a request hidden in its body.
    @Test func http10WithTransferEncodingStopsTheConnection() {
        let results = parse(
            "GET /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(heads(results).map(\.uri) == ["/a"])
    }

    @Test func insideHeadTellsTheTimer() {
        var parser = HTTPRequestParser()
        var buffer = ByteBuffer(string: "GET / HT")
        #expect(parser.next(&buffer) == .needMore)
        #expect(parser.isInsideHead(buffer))
        buffer.writeString("TP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
        guard case .request = parser.next(&buffer) else {
            Issue.record("no request")
            return
        }
        #expect(parser.next(&buffer) == .needMore)
        #expect(!parser.isInsideHead(buffer))
    }

    /// Any bytes: an answer or a wish for more, never a trap, and the input is consumed.
    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 21)
        let pieces = [
            "GET", " ", "/", "HTTP/1.1", "\r\n", "\n", "\r", ":", "Host", "Content-Length: 3",
            "Transfer-Encoding: chunked", "0", "a", "\t", "\u{0}", "1;x",
        ]
        for _ in 0..<3000 {
            var parser = HTTPRequestParser(maxHeadBytes: 256, maxFields: 8)
            var buffer = ByteBuffer()
            for _ in 0..<Int.random(in: 1...40, using: &random) {
                buffer.writeString(pieces.randomElement(using: &random)!)
                var rounds = 0
                while case .request = parser.next(&buffer) {
                    rounds += 1
                    #expect(rounds < 100)
                }
            }
        }
    }
}
