import Foundation
import Testing

/// The RFC 9110/9112 requirements a static file server touches, each sent as raw bytes to
/// the real binary: the status, and whether the connection closed (checked by EOF) or stays
/// usable (checked by a second request on it). docs/http.md's conformance table names the
/// row of each case.
@Suite(.serialized) struct HTTPConformanceTests {
    let tree: ServedTree
    let server: TFTPDProcess

    init() throws {
        tree = try ServedTree()
        try FileManager.default.createDirectory(atPath: tree.root + "/example.com", withIntermediateDirectories: true)
        server = try TFTPDProcess(root: tree.root, http: true)
    }

    enum After: Sendable { case closes, staysOpen }

    struct Case: Sendable, CustomTestStringConvertible {
        var rule: String
        var request: String
        var status: Int
        var after: After
        var testDescription: String { rule }
    }

    static let cases: [Case] = [
        Case(rule: "9112 §3.2 Host missing", request: "GET /size-1.bin HTTP/1.1\r\n\r\n", status: 400, after: .closes),
        Case(
            rule: "9112 §3.2 Host repeated", request: "GET /size-1.bin HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            status: 400, after: .closes),
        Case(
            rule: "9112 §3.2 Host invalid", request: "GET /size-1.bin HTTP/1.1\r\nHost: a b/c\r\n\r\n", status: 400,
            after: .closes),
        Case(
            rule: "9112 §3.2 Host empty is valid", request: "GET /size-1.bin HTTP/1.1\r\nHost:\r\n\r\n", status: 200,
            after: .staysOpen),
        Case(
            rule: "9112 §3.2 Host IP literal", request: "GET /size-1.bin HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
            status: 200, after: .staysOpen),
        Case(
            rule: "9112 §6.1 HTTP/1.0 with Transfer-Encoding",
            request: "GET /size-1.bin HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                + "0\r\n\r\nGET /size-511.bin HTTP/1.1\r\nHost: t\r\n\r\n",
            status: 400, after: .closes),
        Case(
            rule: "9112 §6.1 Transfer-Encoding and Content-Length",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                + "0\r\n\r\n",
            status: 400, after: .closes),
        Case(
            rule: "9112 §6.3 chunked not last",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400,
            after: .closes),
        Case(
            rule: "9112 §6.3 invalid Content-Length",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", status: 400, after: .closes),
        Case(
            rule: "9112 §6.3 differing Content-Lengths",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            status: 400, after: .closes),
        Case(
            rule: "9112 §6.3 chunked body read and dropped",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            status: 200, after: .staysOpen),
        Case(
            rule: "9112 §5.1 space before colon", request: "GET /size-1.bin HTTP/1.1\r\nHost : t\r\n\r\n", status: 400,
            after: .closes),
        Case(
            rule: "9112 §5.2 obs-fold", request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nX: 1\r\n folded\r\n\r\n",
            status: 400, after: .closes),
        Case(
            rule: "9112 §2.2 whitespace before the first field",
            request: "GET /size-1.bin HTTP/1.1\r\n Host: t\r\n\r\n", status: 400, after: .closes),
        Case(
            rule: "9112 §2.2 bare CR", request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", status: 400,
            after: .closes),
        Case(
            rule: "9110 §5.5 NUL in a field", request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nX: a\u{0}b\r\n\r\n",
            status: 400, after: .closes),
        Case(
            rule: "9112 §2.2 empty line before the request",
            request: "\r\nGET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n", status: 200, after: .staysOpen),
        Case(
            rule: "9112 §2.2 bare LF request line", request: "GET /size-1.bin HTTP/1.1\nHost: t\n\n", status: 400,
            after: .closes),
        Case(
            rule: "9110 §2.5 higher minor version", request: "GET /size-1.bin HTTP/1.2\r\nHost: t\r\n\r\n", status: 200,
            after: .staysOpen),
        Case(
            rule: "9110 §15.6.6 other major version", request: "GET /size-1.bin HTTP/2.0\r\nHost: t\r\n\r\n",
            status: 505, after: .closes),
        Case(
            rule: "9110 §15.5.6 405 with Allow", request: "DELETE /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n",
            status: 405, after: .staysOpen),
        Case(
            rule: "9110 §9.3.6 CONNECT", request: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            status: 405, after: .closes),
        Case(
            rule: "9110 §9.3.8 TRACE", request: "TRACE / HTTP/1.1\r\nHost: t\r\n\r\n", status: 405, after: .staysOpen),
        Case(
            rule: "9110 §15.6.2 unknown method", request: "BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", status: 501,
            after: .staysOpen),
        Case(
            rule: "9112 §3.2.4 asterisk-form for GET", request: "GET * HTTP/1.1\r\nHost: t\r\n\r\n", status: 400,
            after: .staysOpen),
        Case(
            rule: "9112 §3.2.2 absolute-form", request: "GET http://other/size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n",
            status: 200, after: .staysOpen),
        Case(
            rule: "9112 §9.6 Connection: close",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            status: 200, after: .closes),
        Case(
            rule: "9112 §9.3 HTTP/1.0 closes", request: "GET /size-1.bin HTTP/1.0\r\n\r\n", status: 200, after: .closes),
        Case(
            rule: "9110 §14.2 Range on HEAD ignored",
            request: "HEAD /size-1468.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n", status: 200,
            after: .staysOpen),
        Case(
            rule: "9110 §14.2 Range on GET",
            request: "GET /size-1468.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n",
            status: 206, after: .staysOpen),
        Case(
            rule: "9110 §15.5.17 unsatisfiable range",
            request: "GET /size-1468.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=5000-\r\n\r\n", status: 416,
            after: .staysOpen),
        Case(
            rule: "9110 §5.6.7 RFC 850 date",
            request: "GET /size-1.bin HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Friday, 31-Dec-99 23:59:59 GMT\r\n\r\n",
            status: 200, after: .staysOpen),
        Case(
            rule: "redirect stays on this host", request: "GET //example.com HTTP/1.1\r\nHost: t\r\n\r\n", status: 301,
            after: .staysOpen),
    ]

    @Test(arguments: cases)
    func rule(_ rule: Case) throws {
        let connection = try RawHTTP(port: server.httpPort, timeout: 5)
        connection.send(rule.request)
        let response = connection.response(bodyExpected: !rule.request.hasPrefix("HEAD"))
        #expect(response?.status == rule.status)
        #expect(response?.header("Date") != nil)
        if rule.status == 405 { #expect(response?.header("Allow") == "GET, HEAD") }
        if rule.request.hasPrefix("CONNECT") {
            #expect(response?.header("Connection") == "close")
        }
        if rule.status >= 400 {
            #expect(response?.header("Content-Length") != nil)
        }
        switch rule.after {
        case .closes:
            // Nothing more: no answer to anything hidden behind the request, then EOF.
            #expect(connection.closedByServer())
        case .staysOpen:
            connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(connection.response()?.body == tree.contents("size-1.bin"))
        }
    }

    /// The answer to HTTP/1.2 is an HTTP/1.1 response; HEAD with Range carries the whole
    /// length; RFC 850 and asctime dates make a 304.
    @Test func versionsRangesAndDates() throws {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("HEAD /size-1468.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n")
        let head = connection.response(bodyExpected: false)
        #expect(head?.header("Content-Length") == "1468")
        #expect(head?.header("Content-Range") == nil)
        for date in ["Friday, 31-Dec-49 23:59:59 GMT", "Fri Dec 31 23:59:59 2049"] {
            connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: \(date)\r\n\r\n")
            #expect(connection.response()?.status == 304, "\(date)")
        }
        connection.send("GET //example.com?x HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.response()?.header("Location") == "/example.com/?x")
        let raw = try RawHTTP(port: server.httpPort)
        raw.send("GET /size-1.bin HTTP/1.2\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(raw.statusLine()?.hasPrefix("HTTP/1.1 200") == true)
    }
}
