import NIOHTTP1

/// The one shape of every HTTP error answer, wherever it is decided: the planner (a
/// status for a request), the connection when the strict parser refuses a head or the head
/// does not arrive in time (400, 408, 414, 431, 505), and the operator endpoint. A short `text/plain` body saying the status, the same headers each
/// time (`Date`, `X-Content-Type-Options`, `Content-Length`; the `Connection` field is the
/// head serializer's, ``HTTPHeadSerializer``).
public struct HTTPErrorResponse: Equatable, Sendable {
    public var status: HTTPResponseStatus
    /// Appended to the body after the reason phrase, e.g. "missing or repeated Host header".
    public var note: String?
    /// Headers beyond the common ones (`Allow` for a 405, `Content-Range` for a 416, `Location`).
    public var extraHeaders: [(String, String)]

    public init(_ status: HTTPResponseStatus, note: String? = nil, extraHeaders: [(String, String)] = []) {
        self.status = status
        self.note = note
        self.extraHeaders = extraHeaders
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.note == b.note && a.extraHeaders.elementsEqual(b.extraHeaders, by: ==)
    }

    /// The body: `404 Not Found\n`, or with the note `400 Bad Request: invalid file name\n`.
    public var text: String {
        "\(status.code) \(status.reasonPhrase)" + (note.map { ": \($0)" } ?? "") + "\n"
    }

    /// The headers of this answer.
    public func headers(now: Int) -> HTTPHeaders {
        var headers = HTTPResponsePlan.commonHeaders(now: now)
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        return headers
    }

}
