import NIOHTTP1
import Testing

@testable import TFTPCore

@Suite struct HTTPResponsePlannerTests {
    private let file = HTTPResponsePlanner.FileFacts(
        name: Array("vmlinuz.efi".utf8), size: 1000, modified: (784_111_777, 5), inode: 42)

    private func planner(
        _ method: HTTPMethod = .GET, _ uri: String = "/vmlinuz.efi", version: HTTPVersion = .http1_1,
        headers: [(String, String)] = [("Host", "x")]
    ) -> HTTPResponsePlanner {
        HTTPResponsePlanner(
            head: HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers)),
            now: 784_111_777)
    }

    private func served(_ planner: HTTPResponsePlanner) -> HTTPResponsePlan {
        guard case .serve(let path) = planner.preflight() else {
            return planner.answer(HTTPErrorResponse(.imATeapot), close: true)
        }
        return planner.plan(file: file, path: path)
    }

    private func rejected(_ planner: HTTPResponsePlanner) -> HTTPResponsePlan? {
        guard case .respond(let plan) = planner.preflight() else { return nil }
        return plan
    }

    @Test func getHasEveryHeader() {
        let plan = served(planner())
        #expect(plan.status == .ok)
        #expect(plan.body == .file(0..<1000))
        #expect(plan.headers["Content-Length"] == ["1000"])
        #expect(plan.headers["Content-Type"] == ["application/efi"])
        #expect(plan.headers["Accept-Ranges"] == ["bytes"])
        #expect(plan.headers["X-Content-Type-Options"] == ["nosniff"])
        #expect(plan.headers["Last-Modified"] == ["Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(plan.headers["Date"] == ["Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(plan.headers["ETag"] == [file.etag])
        #expect(plan.keepAlive)
    }

    @Test func headHasTheSameHeadersAndNoBody() {
        let get = served(planner())
        let head = served(planner(.HEAD))
        #expect(head.body == .none)
        #expect(head.headers == get.headers)
    }

    @Test func conditionalRequests() {
        #expect(served(planner(headers: [("Host", "x"), ("If-None-Match", file.etag)])).status == .notModified)
        #expect(
            served(planner(headers: [("Host", "x"), ("If-None-Match", "\"a\", W/\(file.etag)")])).status == .notModified
        )
        #expect(served(planner(headers: [("Host", "x"), ("If-None-Match", "*")])).status == .notModified)
        #expect(served(planner(headers: [("Host", "x"), ("If-None-Match", "\"other\"")])).status == .ok)
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        #expect(served(planner(headers: [("Host", "x"), ("If-Modified-Since", date)])).status == .notModified)
        let older = "Sat, 05 Nov 1994 08:49:37 GMT"
        #expect(served(planner(headers: [("Host", "x"), ("If-Modified-Since", older)])).status == .ok)
        // If-None-Match wins over If-Modified-Since.
        let both = [("Host", "x"), ("If-None-Match", "\"other\""), ("If-Modified-Since", date)]
        #expect(served(planner(headers: both)).status == .ok)
        #expect(served(planner(headers: [("Host", "x"), ("If-None-Match", file.etag)])).body == .none)
    }

    @Test func ranges() {
        let partial = served(planner(headers: [("Host", "x"), ("Range", "bytes=10-19")]))
        #expect(partial.status == .partialContent)
        #expect(partial.body == .file(10..<20))
        #expect(partial.headers["Content-Range"] == ["bytes 10-19/1000"])
        #expect(partial.headers["Content-Length"] == ["10"])
        let beyond = served(planner(headers: [("Host", "x"), ("Range", "bytes=1000-")]))
        #expect(beyond.status == .rangeNotSatisfiable)
        #expect(beyond.headers["Content-Range"] == ["bytes */1000"])
        #expect(served(planner(headers: [("Host", "x"), ("Range", "bytes=0-1,4-5")])).body == .file(0..<1000))
        let matching = [("Host", "x"), ("Range", "bytes=0-0"), ("If-Range", file.etag)]
        #expect(served(planner(headers: matching)).status == .partialContent)
        let stale = [("Host", "x"), ("Range", "bytes=0-0"), ("If-Range", "\"old\"")]
        #expect(served(planner(headers: stale)).status == .ok)
    }

    @Test func methodsAndVersions() {
        let post = rejected(planner(.POST))
        #expect(post?.status == .methodNotAllowed)
        #expect(post?.headers["Allow"] == ["GET, HEAD"])
        #expect(rejected(planner(.RAW(value: "BREW")))?.status == .notImplemented)
        #expect(rejected(planner(version: HTTPVersion(major: 2, minor: 0)))?.status == .httpVersionNotSupported)
        #expect(rejected(planner(headers: []))?.status == .badRequest)
        #expect(rejected(planner(headers: [("Host", "a"), ("Host", "b")]))?.status == .badRequest)
        #expect(rejected(planner(version: .http1_0, headers: [])) == nil)
        #expect(rejected(planner(uri: "/" + String(repeating: "a", count: 5000)))?.status == .uriTooLong)
    }

    private func planner(uri: String) -> HTTPResponsePlanner { planner(.GET, uri) }

    /// The plan says whether the connection may stay; the `Connection` field is written from
    /// the final decision by the head serializer, never planned.
    @Test func keepAliveFollowsTheVersion() {
        let closing = served(planner(headers: [("Host", "x"), ("Connection", "close")]))
        #expect(!closing.keepAlive)
        #expect(closing.headers["Connection"] == [])
        #expect(!served(planner(version: .http1_0, headers: [])).keepAlive)
        let kept = served(planner(version: .http1_0, headers: [("Connection", "keep-alive")]))
        #expect(kept.keepAlive)
        #expect(kept.headers["Connection"] == [])
    }

    /// A refused file answers what ``ContentError/httpError`` says (the table is in
    /// ContentErrorMappingTests); a decoded `..` is refused before the disk.
    @Test func refusals() {
        #expect(planner().refusal(.outsideRoot).status == .notFound)
        #expect(planner().refusal(.directory).headers["Connection"] == [])
        #expect(rejected(planner(uri: "/%2e%2e/x"))?.status == .badRequest)
    }

    private func directoryVerdict(_ uri: String, listing: Bool) -> HTTPResponsePlanner.DirectoryVerdict? {
        let p = planner(uri: uri)
        guard case .serve(let path) = p.preflight() else { return nil }
        return p.directory(path, listing: listing)
    }

    /// `/dir` → 301 `/dir/`; `/dir/` → listing or 403; the root is never redirected.
    @Test func directoryRouting() {
        guard case .respond(let redirect) = directoryVerdict("/pxelinux.cfg?x=1", listing: true) else {
            Issue.record("no redirect")
            return
        }
        #expect(redirect.status == .movedPermanently)
        #expect(redirect.headers["Location"] == ["/pxelinux.cfg/?x=1"])
        #expect(directoryVerdict("/pxelinux.cfg/", listing: true) == .list)
        #expect(directoryVerdict("/", listing: true) == .list)
        guard case .respond(let refused) = directoryVerdict("/pxelinux.cfg/", listing: false) else {
            Issue.record("listed without --http-listing")
            return
        }
        #expect(refused.status == .forbidden)
    }

    /// The Location of a directory redirect is a path on this host, whatever the target
    /// looked like: `//host` (protocol-relative) and `/\host` (read as `//` by browsers)
    /// would otherwise send the client elsewhere; the absolute form keeps only its path.
    @Test(arguments: [
        ("//example.com", "/example.com/"), ("///example.com?q", "/example.com/?q"),
        ("/\\example.com", "/example.com/"), ("http://host//example.com", "/example.com/"),
        ("http://host/boot", "/boot/"), ("/a//b", "/a//b/"),
    ])
    func redirectStaysOnThisHost(_ target: String, _ location: String) {
        #expect(planner(uri: target).redirectToDirectory().headers["Location"] == [location])
    }

    @Test func fileWithTrailingSlashIsNotFound() throws {
        let p = planner(uri: "/vmlinuz.efi/")
        guard case .serve(let path) = p.preflight() else {
            Issue.record("the planner did not go to the disk for /vmlinuz.efi/")
            return
        }
        #expect(p.plan(file: file, path: path).status == .notFound)
    }

    /// RFC 9110 §14.2: only GET has range semantics.
    @Test func headIgnoresRange() {
        let plan = served(planner(.HEAD, headers: [("Host", "x"), ("Range", "bytes=0-9")]))
        #expect(plan.status == .ok)
        #expect(plan.headers["Content-Length"] == ["1000"])
        #expect(plan.headers["Content-Range"].isEmpty)
    }

    /// Framing and Host rules that end the connection after the answer.
    @Test(arguments: [
        (HTTPMethod.GET, HTTPVersion.http1_0, [("Transfer-Encoding", "chunked")], HTTPResponseStatus.badRequest),
        (.GET, .http1_1, [("Host", "a b")], .badRequest),
        (.GET, .http1_1, [("Host", "a"), ("Host", "b")], .badRequest),
        (.CONNECT, .http1_1, [("Host", "example.com:443")], .methodNotAllowed),
        (.GET, HTTPVersion(major: 2, minor: 0), [("Host", "a")], .httpVersionNotSupported),
    ])
    func refusedAndClosed(
        _ method: HTTPMethod, _ version: HTTPVersion, _ headers: [(String, String)], _ status: HTTPResponseStatus
    ) {
        let plan = rejected(planner(method, version: version, headers: headers))
        #expect(plan?.status == status)
        #expect(plan?.keepAlive == false)
        #expect(plan?.headers["Connection"] == [])
    }

    @Test func higherMinorVersionIsServed() {
        #expect(served(planner(version: HTTPVersion(major: 1, minor: 2))).status == .ok)
    }

    /// A remembered path stands for the target's decoding; everything else is still checked.
    @Test func knownPathSkipsOnlyTheDecoding() throws {
        let path = try RequestPath(Array("vmlinuz.efi".utf8))
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/vmlinuz.efi", headers: ["Host": "x"])
        let planner = HTTPResponsePlanner(head: head, now: 0, knownPath: path)
        #expect(planner.preflight() == .serve(path))
        let noHost = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/vmlinuz.efi", headers: [:])
        #expect(rejected(HTTPResponsePlanner(head: noHost, now: 0, knownPath: path))?.status == .badRequest)
    }
}
