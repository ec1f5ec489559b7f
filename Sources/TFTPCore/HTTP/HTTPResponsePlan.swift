import NIOHTTP1

/// What to answer to one HTTP request: decided by ``HTTPResponsePlanner`` (pure), carried
/// out by ``HTTPConnectionHandler`` (which only reads files and writes).
public struct HTTPResponsePlan: Equatable, Sendable {
    public enum Body: Equatable, Sendable {
        case none
        /// Bytes `range` of the opened file, sent with sendfile.
        case file(Range<Int64>)
        /// A short generated body (an error text, a redirect note, a listing).
        case text(String)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Whether the connection may stay open after this response, as far as the request and
    /// the answer go (the handler may still end it: ``HTTPConnectionState``). The
    /// `Connection` field is written from the final decision by ``HTTPHeadSerializer``.
    public var keepAlive: Bool

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: Body, keepAlive: Bool) {
        self.status = status
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// Bytes of body this plan sends (for the access log).
    public var bodyLength: Int64 {
        switch body {
        case .none: 0
        case .file(let range): range.upperBound - range.lowerBound
        case .text(let text): Int64(text.utf8.count)
        }
    }

    /// The headers every response starts with, file or error: `Date` and
    /// `X-Content-Type-Options`.
    public static func commonHeaders(now: Int) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Date", value: HTTPDate.formatNow(now))
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        return headers
    }
}
