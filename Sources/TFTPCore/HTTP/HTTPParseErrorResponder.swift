import Logging
import NIOCore
import NIOHTTP1

/// Answers a request the decoder could not parse with one clear status and closes:
/// headers over the limit → 431, a well-formed version that is not 1.x → 505, a method token
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

    /// Whether the line names another major version: a well-formed `HTTP/2.0` or `HTTP/0.9`,
    /// or HTTP/0.9's request line without a version (`GET /file`). 505 is for those (RFC 9110
    /// §15.6.6); a malformed line that the decoder took for a bad version (a bare LF) is 400.
    static func namesAnotherMajorVersion(_ line: [UInt8]) -> Bool {
        var line = line
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        if parts.count == 2, !parts[0].isEmpty, parts[1].first == UInt8(ascii: "/") { return true }
        guard line.count >= 8, let space = line.lastIndex(of: UInt8(ascii: " ")) else { return false }
        let version = Array(line[(space + 1)...])
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        return version.count == 8 && version.starts(with: Array("HTTP/".utf8)) && isDigit(version[5])
            && version[6] == UInt8(ascii: ".") && isDigit(version[7]) && version[5] != UInt8(ascii: "1")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let status: HTTPResponseStatus =
            switch parseError {
            case .headerOverflow: .requestHeaderFieldsTooLarge
            case .invalidVersion:
                Self.namesAnotherMajorVersion(connectionGuard.requestLine) ? .httpVersionNotSupported : .badRequest
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
