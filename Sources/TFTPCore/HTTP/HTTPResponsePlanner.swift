import NIOHTTP1

/// Decides every HTTP response from the request head and what the one door to the disk
/// said, with no I/O: method and version rules (RFC 9110 §9, §15; RFC 9112), conditional
/// requests (RFC 9110 §13: If-None-Match before If-Modified-Since, If-Range), single
/// byte ranges (RFC 9110 §14), and the status for each ``ContentError``.
public struct HTTPResponsePlanner: Sendable {
    /// The facts about an opened file that a response depends on, with the header values
    /// derived from them made once (a cached file keeps them).
    public struct FileFacts: Equatable, Sendable {
        public let name: [UInt8]
        public let size: Int64
        public let modified: (seconds: Int, nanoseconds: Int)
        public let inode: UInt64
        /// A strong validator: changes whenever the file is replaced or rewritten.
        public let etag: String
        public let lastModified: String
        public let contentType: String

        public init(name: [UInt8], size: Int64, modified: (seconds: Int, nanoseconds: Int), inode: UInt64) {
            self.name = name
            self.size = size
            self.modified = modified
            self.inode = inode
            let nanoseconds = UInt64(max(0, modified.seconds)) &* 1_000_000_000 &+ UInt64(max(0, modified.nanoseconds))
            self.etag = "\"\(String(inode, radix: 16))-\(String(size, radix: 16))-\(String(nanoseconds, radix: 16))\""
            self.lastModified = HTTPDate.format(modified.seconds)
            self.contentType = ContentType.forName(name)
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.name == b.name && a.size == b.size && a.modified == b.modified && a.inode == b.inode
        }
    }

    /// The verdict of the first look at a request head.
    public enum Preflight: Equatable, Sendable {
        /// A GET or HEAD for this path.
        case serve(RequestPath)
        case respond(HTTPResponsePlan)
    }

    public let head: HTTPRequestHead
    /// Now, seconds since the epoch (for the Date header).
    public let now: Int
    public let maxTargetLength: Int
    /// `--map` rules, applied to the decoded path as they are to TFTP names.
    public let filenameMap: FilenameMap

    /// Whether the client keeps the connection (its version and Connection header), read once.
    private let keepAlive: Bool

    /// The path this target was found to name before (the same target and map always name
    /// the same path), so a hot URL is not decoded and sanitized again.
    private let knownPath: RequestPath?
    /// Who asks, for name rules that depend on it.
    public let client: Requester

    public init(
        head: HTTPRequestHead, now: Int, maxTargetLength: Int = 4096, filenameMap: FilenameMap = .init(),
        client: Requester = .unknown, knownPath: RequestPath? = nil
    ) {
        self.head = head
        self.client = client
        self.knownPath = knownPath
        self.keepAlive = head.isKeepAlive
        self.now = now
        self.maxTargetLength = maxTargetLength
        self.filenameMap = filenameMap
    }

    private var isHead: Bool { head.method == .HEAD }

    /// Version, framing, Host, method and target checks, then the path through the sanitizer.
    public func preflight() -> Preflight {
        // RFC 9110 §2.5: a higher minor version of HTTP/1 is served as HTTP/1.1.
        guard head.version.major == 1 else {
            return .respond(answer(HTTPErrorResponse(.httpVersionNotSupported), close: true))
        }
        guard head.uri.utf8.count <= maxTargetLength else {
            return .respond(answer(HTTPErrorResponse(.uriTooLong), close: true))
        }
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; what
        // follows it on the connection cannot be trusted to be a request of its own.
        if head.version.minor == 0 && head.headers.contains(name: "transfer-encoding") {
            return .respond(
                answer(HTTPErrorResponse(.badRequest, note: "Transfer-Encoding in HTTP/1.0"), close: true))
        }
        // RFC 9112 §3.2: 400 for a missing Host in HTTP/1.1, a repeated one, or an invalid value.
        let hosts = head.headers["host"]
        if head.version.minor >= 1 && hosts.isEmpty || hosts.count > 1 || !hosts.allSatisfy(HTTPHostField.isValid) {
            return .respond(
                answer(HTTPErrorResponse(.badRequest, note: "missing, repeated or invalid Host"), close: true))
        }
        switch head.method {
        case .GET, .HEAD:
            break
        case .RAW:
            return .respond(answer(HTTPErrorResponse(.notImplemented)))
        case .CONNECT:
            // What follows a CONNECT is meant as a tunnel's bytes, not as requests: nothing
            // more is read on this connection.
            return .respond(
                answer(HTTPErrorResponse(.methodNotAllowed, extraHeaders: [("Allow", "GET, HEAD")]), close: true))
        default:
            return .respond(answer(HTTPErrorResponse(.methodNotAllowed, extraHeaders: [("Allow", "GET, HEAD")])))
        }
        switch knownPath.map(Result.success) ?? HTTPRequestTarget.path(head.uri, map: filenameMap, client: client) {
        case .success(let path):
            return .serve(path)
        case .failure(.malformed):
            return .respond(answer(HTTPErrorResponse(.badRequest, note: "malformed request target")))
        case .failure(.content(let problem)):
            return .respond(refusal(problem))
        }
    }

    /// The answer for a file that was opened and checked.
    public func plan(file: FileFacts, path: RequestPath) -> HTTPResponsePlan {
        if path.hasTrailingSeparator {
            // `/kernel/` names a directory; a file is not one (as nginx answers).
            return answer(HTTPErrorResponse(.notFound))
        }
        let etag = file.etag
        let lastModified = file.lastModified
        var headers = commonHeaders()
        headers.add(name: "Last-Modified", value: lastModified)
        headers.add(name: "ETag", value: etag)
        headers.add(name: "Accept-Ranges", value: "bytes")
        if notModified(etag: etag, modifiedSeconds: file.modified.seconds) {
            return HTTPResponsePlan(status: .notModified, headers: headers, body: .none, keepAlive: keepAlive)
        }
        headers.add(name: "Content-Type", value: file.contentType)
        var range: ByteRange = .none
        // RFC 9110 §14.2: GET is the only method with range semantics; HEAD ignores Range.
        if head.method == .GET, let value = head.headers.first(name: "range"),
            rangeApplies(etag: etag, lastModified: lastModified)
        {
            range = ByteRange.parse(value, size: file.size)
        }
        switch range {
        case .single(let bytes):
            headers.add(name: "Content-Range", value: "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(file.size)")
            headers.add(name: "Content-Length", value: String(bytes.count))
            return HTTPResponsePlan(
                status: .partialContent, headers: headers, body: isHead ? .none : .file(bytes),
                keepAlive: keepAlive)
        case .unsatisfiable:
            return answer(
                HTTPErrorResponse(.rangeNotSatisfiable, extraHeaders: [("Content-Range", "bytes */\(file.size)")]))
        case .none, .multiple:
            // Several ranges are answered with the whole file (RFC 9110 §14.2 allows
            // ignoring Range); boot clients ask for one at most.
            headers.add(name: "Content-Length", value: String(file.size))
            return HTTPResponsePlan(
                status: .ok, headers: headers, body: isHead ? .none : .file(0..<file.size),
                keepAlive: keepAlive)
        }
    }

    /// What to do with a name the door found to be a directory.
    public enum DirectoryVerdict: Equatable, Sendable {
        /// List it (``listing(_:)`` makes the page).
        case list
        case respond(HTTPResponsePlan)
    }

    /// `/dir` without the slash: 301 to `/dir/` (so relative links in a listing resolve);
    /// `/dir/` or `/`: the listing with `--http-listing`, else 403.
    public func directory(_ path: RequestPath, listing: Bool) -> DirectoryVerdict {
        guard path.hasTrailingSeparator || path.isRoot else { return .respond(redirectToDirectory()) }
        return listing ? .list : .respond(refusal(.directory))
    }

    /// The 301 to the target with a slash added, keeping the query. The location is
    /// always a path on this host: leading slashes (and backslashes, which browsers read
    /// as slashes) collapse to one, so `//example.com` cannot become a redirect to
    /// another host.
    func redirectToDirectory() -> HTTPResponsePlan {
        let (path, suffix) = HTTPRequestTarget.split(head.uri)
        let relative = path.drop(while: { $0 == "/" || $0 == "\\" })
        return answer(HTTPErrorResponse(.movedPermanently, extraHeaders: [("Location", "/\(relative)/\(suffix)")]))
    }

    /// A listing page for a directory (only with `--http-listing`).
    public func listing(_ html: String) -> HTTPResponsePlan {
        var headers = commonHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: String(html.utf8.count))
        headers.add(name: "Cache-Control", value: "no-cache")
        return HTTPResponsePlan(
            status: .ok, headers: headers, body: isHead ? .none : .text(html), keepAlive: keepAlive)
    }

    /// A script rendered for the requesting machine (docs/machines.md): 200 with the whole
    /// text (no ranges, no validators: it may differ on the next request), never cached.
    public func generated(length: Int) -> HTTPResponsePlan {
        var headers = commonHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Content-Length", value: String(length))
        return HTTPResponsePlan(
            status: .ok, headers: headers, body: isHead ? .none : .file(0..<Int64(length)), keepAlive: keepAlive)
    }

    /// A file the door refused, as ``ContentError/httpError`` says.
    public func refusal(_ problem: ContentError) -> HTTPResponsePlan {
        answer(problem.httpError)
    }

    /// An error answer (``HTTPErrorResponse``); `close` ends the connection after it even
    /// when the client would keep it.
    public func answer(_ response: HTTPErrorResponse, close: Bool = false) -> HTTPResponsePlan {
        let keepAlive = !close && self.keepAlive
        return HTTPResponsePlan(
            status: response.status,
            headers: response.headers(now: now),
            body: isHead ? .none : .text(response.text), keepAlive: keepAlive)
    }

    private func commonHeaders() -> HTTPHeaders {
        HTTPResponsePlan.commonHeaders(now: now)
    }

    /// RFC 9110 §13.1.2, §13.1.3: If-None-Match (weak comparison) wins over
    /// If-Modified-Since.
    private func notModified(etag: String, modifiedSeconds: Int) -> Bool {
        let noneMatch = head.headers["if-none-match"]
        if !noneMatch.isEmpty {
            let tags = noneMatch.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces }
            return tags.contains { $0 == "*" || Self.opaque($0) == Self.opaque(etag) }
        }
        if let since = head.headers.first(name: "if-modified-since").flatMap({ HTTPDate.parse($0, now: now) }) {
            return modifiedSeconds <= since
        }
        return false
    }

    /// RFC 9110 §13.1.5: a Range is honoured only if If-Range, when present, matches the
    /// strong ETag exactly or the Last-Modified date exactly.
    private func rangeApplies(etag: String, lastModified: String) -> Bool {
        guard let condition = head.headers.first(name: "if-range")?.trimmingSpaces else { return true }
        return condition == etag || condition == lastModified
    }

    private static func opaque(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
