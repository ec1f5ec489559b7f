import Logging
import NIOCore
import NIOHTTP1

/// Answers a request the decoder could not parse with one clear status and closes:
/// headers over the limit → 431, an HTTP version that is not 1.x → 505, a method token
/// the parser does not know → 501 (RFC 9110 §9.1), anything else
/// (a malformed request line, bad header syntax) → 400. In place of NIO's
/// `HTTPServerProtocolErrorHandler`, which answers 400 to all of them.
final class HTTPParseErrorResponder: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let logger: Logger
    private let connectionGuard: HTTPConnectionGuard
    private var responseInFlight = false

    init(logger: Logger, connectionGuard: HTTPConnectionGuard) {
        self.logger = logger
        self.connectionGuard = connectionGuard
    }

    /// `TOKEN SP /target SP HTTP/1.x`: a well-formed line whose method the parser did not
    /// know (501), as opposed to garbage (400).
    static func isWellFormedRequestLine(_ line: [UInt8]) -> Bool {
        var line = line
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let tokenCharacters = Set(
            Array("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8))
        return parts.count == 3 && !parts[0].isEmpty && parts[0].allSatisfy(tokenCharacters.contains)
            && parts[1].first == UInt8(ascii: "/") && parts[2].starts(with: Array("HTTP/1.".utf8))
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
            case .invalidMethod:
                Self.isWellFormedRequestLine(connectionGuard.requestLine) ? .notImplemented : .badRequest
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
        let response = HTTPErrorResponse(status)
        let headers = response.headers(now: HTTPClock.now, keepAlive: false)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.text)))), promise: nil)
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
