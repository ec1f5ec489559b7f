import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TFTPCore

/// What a client gets for a head the decoder refuses: the pipeline as the server builds it
/// (guard, NIO's decoder and encoder, the responder), on an embedded channel.
@Suite struct HTTPParseErrorResponderTests {
    private func answer(to request: String) throws -> (text: String, closed: Bool) {
        let channel = EmbeddedChannel()
        let configuration = HTTPConfiguration(listen: [])
        let connectionGuard = HTTPConnectionGuard(configuration: configuration)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(connectionGuard)
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try pipeline.addHandler(
            HTTPParseErrorResponder(logger: Logger(label: "test"), connectionGuard: connectionGuard))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 40000)).wait()
        do {
            try channel.writeInbound(channel.allocator.buffer(string: request))
        } catch is HTTPParserError {
            // The decoder also rethrows the error after the responder has answered.
        }
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return (text, !channel.isActive)
    }

    @Test(arguments: [
        ("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "501 Not Implemented"),
        ("this is not http\r\n\r\n", "400 Bad Request"),
        ("GET / HTTP/1.1\r\nBad Header\r\n\r\n", "400 Bad Request"),
    ])
    func statusAndClose(_ request: String, _ status: String) throws {
        let (text, closed) = try answer(to: request)
        #expect(text.hasPrefix("HTTP/1.1 \(status)\r\n"))
        #expect(text.lowercased().contains("\r\nconnection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\n\(status)\n"))
        #expect(closed)
    }

    @Test(arguments: [
        ("GET /x HTTP/1.1", true), ("M-SEARCH * HTTP/1.1", false), ("GET /x", false), ("G@T /x HTTP/1.1", false),
    ])
    func requestLineShape(_ line: String, _ wellFormed: Bool) {
        #expect(HTTPParseErrorResponder.isWellFormedRequestLine(Array(line.utf8)) == wellFormed)
    }
}

extension HTTPParseErrorResponderTests {
    /// 505 only for another major version; a line the decoder refused for its ending is 400.
    @Test(arguments: [
        ("GET / HTTP/2.0", true), ("GET / HTTP/0.9", true), ("GET /file", true), ("GET / HTTP/1.1", false),
        ("GET / HTTP/1.1\r", false), ("GET / HTTP/x.y", false), ("GET / HTTP/20.0", false), ("garbage", false),
    ])
    func versionVerdicts(_ line: String, _ other: Bool) {
        #expect(HTTPParseErrorResponder.namesAnotherMajorVersion(Array(line.utf8)) == other)
    }
}
