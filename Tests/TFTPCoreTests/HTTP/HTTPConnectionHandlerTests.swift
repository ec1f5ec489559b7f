import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import TFTPCore

/// The connection handler on an embedded channel with a hand-driven clock, against a real
/// temporary root: what it writes and when it closes.
@Suite struct HTTPConnectionHandlerTests {
    private static let configuration = HTTPConfiguration(
        listen: [], maxHeaderBytes: 256, headerTimeout: .seconds(10), idleTimeout: .seconds(60))

    private final class Connection {
        let tree: ContentRootTests.Tree
        let channel: EmbeddedChannel

        init() throws {
            tree = try ContentRootTests.Tree()
            let root = try ContentRoot(path: tree.root)
            channel = EmbeddedChannel()
            let handler = HTTPConnectionHandler(
                root: root, configuration: HTTPConnectionHandlerTests.configuration,
                cache: HTTPFileCache(eventLoop: channel.eventLoop), logger: Logger(label: "test"),
                metrics: ServerMetrics())
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 40000)).wait()
        }

        func send(_ text: String) throws {
            try channel.writeInbound(channel.allocator.buffer(string: text))
        }

        /// Everything written so far, as text.
        func written() throws -> String {
            var text = ""
            while let data = try channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(var buffer) = data { text += buffer.readString(length: buffer.readableBytes) ?? "" }
            }
            return text
        }

        func advance(_ amount: TimeAmount) { channel.embeddedEventLoop.advanceTime(by: amount) }
    }

    @Test func slowHeadGets408AndIsClosed() throws {
        let connection = try Connection()
        try connection.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n")
        connection.advance(.seconds(9))
        #expect(try connection.written().isEmpty)
        #expect(connection.channel.isActive)
        connection.advance(.seconds(1))
        let answer = try connection.written()
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(answer.contains("\r\nConnection: close\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n408 Request Timeout\n"))
        #expect(!connection.channel.isActive)
    }

    /// The header timer runs from a head's first byte, even after a long idle stretch.
    @Test func headerTimerStartsWithTheHead() throws {
        let connection = try Connection()
        connection.advance(.seconds(30))
        try connection.send("GET /file.bin HT")
        connection.advance(.seconds(10))
        #expect(try connection.written().hasPrefix("HTTP/1.1 408"))
    }

    @Test(arguments: [
        ("GET /" + String(repeating: "a", count: 300), "HTTP/1.1 414 URI Too Long\r\n"),
        (
            "GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: 300),
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        ),
        ("GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        ("GET / HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 Bad Request\r\n"),
    ])
    func refusedHeadsCloseTheConnection(_ request: String, _ statusLine: String) throws {
        let connection = try Connection()
        try connection.send(request)
        let answer = try connection.written()
        #expect(answer.hasPrefix(statusLine))
        #expect(answer.contains("Content-Length: "))
        #expect(!connection.channel.isActive)
    }

    /// Pipelined requests are answered in order in one go; `Connection: close` ends it.
    @Test func pipelining() throws {
        let connection = try Connection()
        try connection.send(
            "GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.2\r\nHost: x\r\n\r\n"
                + "HEAD /file.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        let answer = try connection.written()
        let statusLines = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map {
            $0.components(separatedBy: "\r\n")[0]
        }
        #expect(statusLines == ["200 OK", "404 Not Found", "200 OK"])
        #expect(answer.contains("\r\n\r\ninner\n"))
        #expect(answer.components(separatedBy: "Connection: close").count == 2)
        #expect(!connection.channel.isActive)
    }

    @Test func idleConnectionClosesQuietly() throws {
        let connection = try Connection()
        try connection.send("GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try connection.written()
        connection.advance(.seconds(59))
        #expect(connection.channel.isActive)
        try connection.send("GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.advance(.seconds(59))
        #expect(connection.channel.isActive)
        connection.advance(.seconds(1))
        #expect(try connection.written().hasPrefix("HTTP/1.1 200 OK"))
        #expect(!connection.channel.isActive)
    }

    /// Graceful shutdown closes an idle keep-alive connection once its answers are out.
    @Test func quiesceClosesIdleConnections() throws {
        let connection = try Connection()
        try connection.send("GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try connection.written().hasPrefix("HTTP/1.1 200 OK"))
        #expect(!connection.channel.isActive)
    }

    /// The second answer of a cached file is the same, bytes and validators.
    @Test func cachedAnswersMatch() throws {
        let connection = try Connection()
        try connection.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try connection.written()
        try connection.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try connection.written()
        func withoutDate(_ text: String) -> String {
            text.components(separatedBy: "\r\n").filter { !$0.hasPrefix("Date:") }.joined(separator: "\r\n")
        }
        #expect(withoutDate(first) == withoutDate(second))
        #expect(first.hasSuffix(String(repeating: "A", count: 1000)))
    }

    /// While the socket takes no more, requests wait unanswered (and reading stops); when it
    /// drains, they are answered in order.
    @Test func unwritableSocketHoldsRequests() throws {
        let connection = try Connection()
        connection.channel.isWritable = false
        try connection.send("GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.written().isEmpty)
        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        let answer = try connection.written()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.contains("HTTP/1.1 404 Not Found"))
    }

    /// Shutdown while read requests wait for the socket: when it drains, the first is answered
    /// with `Connection: close` (the last answer), and the connection closes after it.
    @Test func quiesceAnswersARequestThatWaited() throws {
        let connection = try Connection()
        connection.channel.isWritable = false
        try connection.send("GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(connection.channel.isActive)
        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        let answer = try connection.written()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("\r\nConnection: close\r\n"))
        #expect(!answer.contains("404"))
        #expect(!connection.channel.isActive)
    }
}
