import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TFTPCore

/// The guard below the decoder, on an embedded channel with a hand-driven clock: what it
/// writes (raw bytes, built by ``HTTPErrorResponse``) and whether it closes.
@Suite struct HTTPConnectionGuardTests {
    private static let configuration = HTTPConfiguration(
        listen: [], maxHeaderBytes: 64, headerTimeout: .seconds(10), idleTimeout: .seconds(60))

    private func activeChannel() throws -> (EmbeddedChannel, HTTPConnectionGuard) {
        let connectionGuard = HTTPConnectionGuard(configuration: Self.configuration)
        let channel = EmbeddedChannel(handler: connectionGuard)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 40000)).wait()
        return (channel, connectionGuard)
    }

    /// Everything the guard wrote, as text.
    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    @Test func slowHeadGets408AndIsClosed() throws {
        let (channel, _) = try activeChannel()
        try send(channel, "GET /boot.ipxe HTTP/1.1\r\nHost: x\r\n")
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(try written(channel).isEmpty)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let answer = try written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(answer.contains("\r\nConnection: close\r\n"))
        #expect(answer.hasSuffix("\r\n\r\n408 Request Timeout\n"))
        #expect(!channel.isActive)
    }

    @Test func longRequestLineGets414() throws {
        let (channel, _) = try activeChannel()
        try send(channel, "GET /" + String(repeating: "a", count: 80))
        #expect(try written(channel).hasPrefix("HTTP/1.1 414 URI Too Long\r\n"))
        #expect(!channel.isActive)
    }

    @Test func longHeadersGet431() throws {
        let (channel, _) = try activeChannel()
        try send(channel, "GET / HTTP/1.1\r\n")
        #expect(try written(channel).isEmpty)
        try send(channel, "X-Padding: " + String(repeating: "b", count: 60) + "\r\n")
        let answer = try written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(
            answer.contains("Content-Length: \(HTTPErrorResponse(.requestHeaderFieldsTooLarge).text.utf8.count)\r\n"))
        #expect(!channel.isActive)
    }

    /// A head that arrived stops the header timer; the idle timer closes quietly afterwards.
    @Test func idleConnectionClosesWithoutAnswer() throws {
        let (channel, connectionGuard) = try activeChannel()
        try send(channel, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try channel.readInbound(as: ByteBuffer.self)
        connectionGuard.headReceived()
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
        connectionGuard.responseFinished()
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try written(channel).isEmpty)
        #expect(!channel.isActive)
    }

    /// RFC 9110 §2.5: `HTTP/1.2` reaches the decoder as `HTTP/1.1`; nothing else changes.
    @Test(arguments: [
        ("GET / HTTP/1.2\r\n", "GET / HTTP/1.1\r\n"), ("GET / HTTP/1.9\n", "GET / HTTP/1.1\n"),
        ("GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n"), ("GET / HTTP/1.0\r\n", "GET / HTTP/1.0\r\n"),
        ("GET / HTTP/2.2\r\n", "GET / HTTP/2.2\r\n"), ("GET /HTTP/1.2 HTTP/1.1\r\n", "GET /HTTP/1.2 HTTP/1.1\r\n"),
        ("2\r\n", "2\r\n"),
    ])
    func higherMinorVersionsReadAsHTTP11(_ line: String, _ expected: String) {
        var buffer = ByteBuffer(string: line)
        HTTPConnectionGuard.readHigherMinorAsHTTP11(&buffer, lineEnd: buffer.writerIndex - 1)
        #expect(String(buffer: buffer) == expected)
    }
}
