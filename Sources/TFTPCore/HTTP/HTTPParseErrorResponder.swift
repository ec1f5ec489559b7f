import Logging
import NIOCore
import NIOHTTP1

/// Answers a request the decoder could not parse with one clear status and closes:
/// headers over the limit → 431, an HTTP version that is not 1.x → 505, anything else
/// (a malformed request line, bad header syntax) → 400. In place of NIO's
/// `HTTPServerProtocolErrorHandler`, which answers 400 to all of them.
final class HTTPParseErrorResponder: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let logger: Logger
    private var responseInFlight = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let status: HTTPResponseStatus =
            switch parseError {
            case .headerOverflow: .requestHeaderFieldsTooLarge
            case .invalidVersion: .httpVersionNotSupported
            default: .badRequest
            }
        logger.info(
            "request",
            metadata: [
                "client": "\(context.channel.remoteAddress?.display ?? "?")", "status": "\(status.code)",
                "error": "\(parseError)",
            ])
        // A response already on its way cannot be followed by another on this connection.
        guard !responseInFlight else {
            context.close(promise: nil)
            return
        }
        let body = "\(status.code) \(status.reasonPhrase)\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Date", value: HTTPDate.format(HTTPClock.now))
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responseInFlight = true
        case .end: responseInFlight = false
        case .body: break
        }
        context.write(data, promise: promise)
    }
}
