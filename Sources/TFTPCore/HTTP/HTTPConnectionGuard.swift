import NIOCore
import NIOHTTP1

/// Sits before the HTTP decoder and bounds what a connection may cost before a request
/// head is complete: the head's size (414/431) and the time to send it (408, slowloris),
/// and closes connections idle between requests. ``HTTPFileHandler`` tells it when a
/// head has arrived and when the response is done.
final class HTTPConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests: the idle timer runs.
        case idle
        /// Bytes of a head are arriving: counted, and the header timer runs.
        /// `requestLineLength` is known once the first line end has arrived.
        case readingHead(bytes: Int, requestLineLength: Int?)
        /// A request is being answered.
        case busy
        case closed
    }

    private let configuration: HTTPConfiguration
    private var state = State.idle
    /// The current request's first line as far as it has arrived (bounded by the head
    /// limit), so a parse error can tell an unknown method from a malformed line.
    private(set) var requestLine: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(configuration: HTTPConfiguration) {
        self.configuration = configuration
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(configuration.idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(configuration.idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .closed:
            return
        case .busy:
            break
        case .idle:
            state = .readingHead(bytes: 0, requestLineLength: nil)
            requestLine.removeAll(keepingCapacity: true)
            arm(configuration.headerTimeout)
            fallthrough
        case .readingHead:
            guard case .readingHead(let count, var lineLength) = state else { break }
            if lineLength == nil {
                let view = bytes.readableBytesView
                let end = view.firstIndex(of: UInt8(ascii: "\n"))
                if let end {
                    lineLength = count + (end - bytes.readerIndex)
                    Self.readHigherMinorAsHTTP11(&bytes, lineEnd: end)
                }
                if requestLine.count < configuration.maxHeaderBytes {
                    requestLine += bytes.readableBytesView[..<(end ?? bytes.writerIndex)]
                }
            }
            let total = count + bytes.readableBytes
            state = .readingHead(bytes: total, requestLineLength: lineLength)
            if total > configuration.maxHeaderBytes {
                // Still in the request line, or a line longer than the whole budget: 414.
                let inRequestLine = (lineLength ?? total) > configuration.maxHeaderBytes
                return reject(inRequestLine ? .uriTooLong : .requestHeaderFieldsTooLarge, context: context)
            }
        }
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// RFC 9110 §2.5: a request line ending `HTTP/1.2` … `HTTP/1.9` is processed as HTTP/1.1
    /// (the decoder knows 1.0 and 1.1 only, and would refuse it). `lineEnd` is the index of
    /// the line's LF in `bytes`; the digit is rewritten when it is in this read.
    static func readHigherMinorAsHTTP11(_ bytes: inout ByteBuffer, lineEnd: Int) {
        var digit = lineEnd - 1
        if digit >= bytes.readerIndex, bytes.getInteger(at: digit, as: UInt8.self) == UInt8(ascii: "\r") { digit -= 1 }
        let prefix = Array("HTTP/1.".utf8)
        guard digit - prefix.count >= bytes.readerIndex,
            let minor = bytes.getInteger(at: digit, as: UInt8.self), minor >= UInt8(ascii: "2"),
            minor <= UInt8(ascii: "9"),
            bytes.getBytes(at: digit - prefix.count, length: prefix.count) == prefix
        else { return }
        bytes.setInteger(UInt8(ascii: "1"), at: digit)
    }

    /// A complete head reached the handler.
    func headReceived() {
        if case .closed = state { return }
        state = .busy
        timer?.cancel()
        timer = nil
    }

    /// The response was written; the connection stays open for the next request.
    func responseFinished() {
        guard case .busy = state else { return }
        state = .idle
        arm(configuration.idleTimeout)
    }

    private func arm(_ delay: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            self.timer = nil
            guard let context = self.context else { return }
            switch self.state {
            case .idle:
                self.state = .closed
                context.close(promise: nil)
            case .readingHead:
                self.reject(.requestTimeout, context: context)
            case .busy, .closed:
                break
            }
        }
    }

    /// Answers from below the decoder (its state is not trusted any more) and closes.
    private func reject(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        state = .closed
        timer?.cancel()
        let text = HTTPErrorResponse(status).serialized(now: HTTPClock.now)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text))).assumeIsolated()
            .whenComplete { _ in
                context.close(promise: nil)
            }
    }
}
