import Foundation
import Glibc
import Testing

/// The HTTP listener of the real `tftpd` binary, with curl and with raw sockets: every
/// status docs/http.md promises, keep-alive and pipelining, the limits, and the same
/// refusals as TFTP for the same names.
@Suite(.serialized) struct HTTPTests {
    let tree: ServedTree
    let server: TFTPDProcess

    init() throws {
        tree = try ServedTree()
        for name in [
            "boot.efi", "menu.ipxe", "disk.iso", "root.img", "initrd.gz", "initrd.xz", "grub.cfg", "x.unknown",
        ] {
            try tree.write(name, Array("content of \(name)".utf8))
        }
        server = try TFTPDProcess(root: tree.root, http: true)
    }

    private var base: String { "http://127.0.0.1:\(server.httpPort)" }

    private func curl(_ arguments: [String]) throws -> ExternalTool.Result {
        try ExternalTool.run(["curl", "-sS"] + arguments)
    }

    private func get(_ target: String, headers: [String] = []) throws -> RawHTTP.Response? {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET \(target) HTTP/1.1\r\nHost: t\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
        return connection.response()
    }

    @Test(.requires("curl"), arguments: ServedTree.sizes)
    func curlFetchesEveryEdgeSize(_ size: Int) throws {
        let out = try tree.downloads() + "/f"
        let result = try curl(["-o", out, "\(base)/size-\(size).bin"])
        #expect(result.status == 0, "\(result.output)")
        #expect(GetCommandTests.contents(out) == tree.contents("size-\(size).bin"))
    }

    @Test func headHasTheHeadersAndNoBody() throws {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("HEAD /size-1469.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = connection.response(bodyExpected: false)
        #expect(head?.status == 200)
        #expect(head?.header("Content-Length") == "1469")
        #expect(head?.header("ETag") != nil)
        #expect(head?.header("Last-Modified") != nil)
        #expect(head?.header("Accept-Ranges") == "bytes")
        #expect(head?.header("X-Content-Type-Options") == "nosniff")
        #expect(head?.header("Date") != nil)
        // The next response starts right after the head: no body was sent.
        let next = connection.response()
        #expect(next?.status == 200)
        #expect(next?.body == tree.contents("size-1.bin"))
    }

    @Test(arguments: [
        ("boot.efi", "application/efi"), ("menu.ipxe", "text/plain; charset=utf-8"),
        ("disk.iso", "application/x-iso9660-image"), ("root.img", "application/octet-stream"),
        ("initrd.gz", "application/gzip"), ("initrd.xz", "application/x-xz"),
        ("grub.cfg", "text/plain; charset=utf-8"), ("text.txt", "text/plain; charset=utf-8"),
        ("x.unknown", "application/octet-stream"),
    ])
    func contentTypes(_ name: String, _ type: String) throws {
        #expect(try get("/" + name)?.header("Content-Type") == type)
    }

    @Test func conditionalRequests() throws {
        guard let first = try get("/size-2936.bin"), let etag = first.header("ETag"),
            let modified = first.header("Last-Modified")
        else {
            Issue.record("no validators")
            return
        }
        let byTag = try get("/size-2936.bin", headers: ["If-None-Match: \(etag)"])
        #expect(byTag?.status == 304)
        #expect(byTag?.body.isEmpty == true)
        #expect(try get("/size-2936.bin", headers: ["If-Modified-Since: \(modified)"])?.status == 304)
        #expect(try get("/size-2936.bin", headers: ["If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"])?.status == 200)
        #expect(try get("/size-2936.bin", headers: ["If-None-Match: \"nope\""])?.status == 200)
    }

    @Test(.requires("curl")) func ranges() throws {
        let bytes = tree.contents("size-100003.bin")
        let partial = try get("/size-100003.bin", headers: ["Range: bytes=1000-1999"])
        #expect(partial?.status == 206)
        #expect(partial?.header("Content-Range") == "bytes 1000-1999/100003")
        #expect(partial?.body == Array(bytes[1000..<2000]))
        let suffix = try get("/size-100003.bin", headers: ["Range: bytes=-3"])
        #expect(suffix?.body == Array(bytes[100_000...]))
        let beyond = try get("/size-100003.bin", headers: ["Range: bytes=200000-"])
        #expect(beyond?.status == 416)
        #expect(beyond?.header("Content-Range") == "bytes */100003")
        let several = try get("/size-100003.bin", headers: ["Range: bytes=0-1,5-6"])
        #expect(several?.status == 200)
        #expect(several?.body == bytes)
        let etag = try get("/size-100003.bin")?.header("ETag") ?? ""
        #expect(try get("/size-100003.bin", headers: ["Range: bytes=0-0", "If-Range: \(etag)"])?.status == 206)
        #expect(try get("/size-100003.bin", headers: ["Range: bytes=0-0", "If-Range: \"old\""])?.status == 200)
        // curl's own range request.
        let out = try tree.downloads() + "/r"
        #expect(try curl(["-r", "10-19", "-o", out, "\(base)/size-100003.bin"]).status == 0)
        #expect(GetCommandTests.contents(out) == Array(bytes[10..<20]))
    }

    /// Three requests in one write come back in order on one connection; then
    /// `Connection: close` ends it.
    @Test func pipeliningAndClose() throws {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send(
            "GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /size-511.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(connection.response()?.body == tree.contents("size-1.bin"))
        #expect(connection.response()?.status == 404)
        let last = connection.response()
        #expect(last?.body == tree.contents("size-511.bin"))
        #expect(last?.header("Connection") == "close")
        #expect(connection.closedByServer())
    }

    @Test func http10ClosesUnlessKeptAlive() throws {
        let plain = try RawHTTP(port: server.httpPort)
        plain.send("GET /size-1.bin HTTP/1.0\r\n\r\n")
        #expect(plain.response()?.status == 200)
        #expect(plain.closedByServer())
        let kept = try RawHTTP(port: server.httpPort)
        kept.send("GET /size-1.bin HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.response()?.header("Connection") == "keep-alive")
        kept.send("GET /size-512.bin HTTP/1.0\r\n\r\n")
        #expect(kept.response()?.body == tree.contents("size-512.bin"))
    }

    @Test(.requires("curl")) func directories() throws {
        let redirect = try get("/sub")
        #expect(redirect?.status == 301)
        #expect(redirect?.header("Location") == "/sub/")
        #expect(try get("/sub/")?.status == 403)
        #expect(try get("/")?.status == 403)
        // curl follows the redirect to the 403.
        let followed = try curl(["-L", "-o", "/dev/null", "-w", "%{http_code}", "\(base)/sub"])
        #expect(followed.output == "403")
    }

    /// Every bad request gets its status and the server keeps serving.
    @Test(arguments: [
        ("GARBAGE\r\n\r\n", 400),
        ("GET /size-1.bin\r\n\r\n", 505),  // HTTP/0.9
        ("GET /size-1.bin HTTP/1.1\r\n\r\n", 400),  // no Host
        ("DELETE /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n", 405),
        ("POST /size-1.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 405),
        ("BREW /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n", 501),
        ("GET /size-1.bin HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ("GET /size-1.bin HTTP/3.7\r\nHost: t\r\n\r\n", 505),
        ("GET /" + String(repeating: "a", count: 5000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        ("GET /" + String(repeating: "a", count: 20000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "b", count: 20000) + "\r\n\r\n", 431),
    ])
    func badRequests(_ request: String, _ status: Int) throws {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send(request)
        let response = connection.response()
        #expect(response?.status == status, "\(request.prefix(60))")
        if status == 405 { #expect(response?.header("Allow") == "GET, HEAD") }
        #expect(try get("/size-1.bin")?.body == tree.contents("size-1.bin"))
    }

    /// Encoded traversal never leaves the root, and TFTP and HTTP agree name by name.
    @Test(arguments: [
        "/..%2foutside%2fsecret", "/%2e%2e/outside/secret", "/%2E%2E%2Foutside%2Fsecret",
        "/sub/%2e%2e/%2e%2e/outside/secret",
        "/..%5coutside%5csecret", "/escape", "/zero", "/fifo", "/private.bin", "/size-1.bin%00.txt", "/%00",
        "/../outside/secret",
    ])
    func traversalCorpus(_ target: String) throws {
        let response = try get(target)
        #expect([400, 403, 404].contains(response?.status ?? 0), "\(target): \(response?.status ?? 0)")
        #expect(response.map { !String(decoding: $0.body, as: UTF8.self).contains("outside the root") } ?? true)
    }

    @Test func sameRefusalsAsTFTP() throws {
        for (name, status) in [("escape", 404), ("private.bin", 403), ("fifo", 403), ("missing", 404), ("sub", 301)] {
            #expect(try get("/" + name)?.status == status, "\(name)")
        }
        for (name, code) in [("escape", 1), ("private.bin", 2), ("fifo", 2), ("missing", 1), ("sub", 2)] {
            // A fresh port each time: a repeated RRQ from the same port is ignored while
            // the previous transfer is still being torn down.
            let client = try UDPPeer()
            let result = client.fetch(Array(name.utf8), port: server.port)
            #expect(result.error.map { Int($0.0.rawValue) } == code, "\(name)")
        }
    }

    /// A client that goes away in the middle of a 100 MiB body costs nothing lasting:
    /// the server logs it and serves the next request.
    @Test(.requires("curl")) func clientDisconnectsMidBody() throws {
        let big = tree.path("big.bin")
        let fd = open(big, O_CREAT | O_WRONLY, 0o644)
        ftruncate(fd, 100 << 20)
        close(fd)
        do {
            let connection = try RawHTTP(port: server.httpPort)
            connection.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(connection.readSome(1 << 20) >= 1 << 20)
        }
        try server.waitForLog(containing: "target=/big.bin")
        #expect(try get("/size-1468.bin")?.body == tree.contents("size-1468.bin"))
        let out = try tree.downloads() + "/big"
        #expect(try curl(["-o", out, "\(base)/big.bin"]).status == 0)
        var info = stat()
        #expect(stat(out, &info) == 0 && info.st_size == 100 << 20)
    }
}

/// The HTTP limits, each on its own server with a small setting.
@Suite struct HTTPLimitTests {
    @Test func slowHeadersTimeOut() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--http-header-timeout", "1"])
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n")  // never finished
        #expect(connection.response()?.status == 408)
        #expect(connection.closedByServer())
    }

    @Test func idleKeepAliveIsClosed() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--http-idle-timeout", "1"])
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.response()?.status == 200)
        #expect(connection.closedByServer())
        let silent = try RawHTTP(port: server.httpPort)
        #expect(silent.closedByServer())
    }

    @Test func connectionLimit() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--http-max-connections", "1"])
        let first = try RawHTTP(port: server.httpPort)
        first.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(first.response()?.status == 200)
        let second = try RawHTTP(port: server.httpPort)
        #expect(second.closedByServer())
        try server.waitForLog(containing: "connection limit reached")
        first.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(first.response()?.status == 200)
        #expect(first.closedByServer())
    }

    @Test func listingEscapesNames() throws {
        let tree = try ServedTree()
        try tree.write("sub/<b>&\"x'.txt", Array("x".utf8))
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--http-listing"])
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /sub/ HTTP/1.1\r\nHost: t\r\n\r\n")
        let page = String(decoding: connection.response()?.body ?? [], as: UTF8.self)
        #expect(page.contains("href=\"%3Cb%3E%26%22x%27.txt\">&lt;b&gt;&amp;&quot;x&#39;.txt</a>"))
        #expect(page.contains("href=\"deeper/\""))
        #expect(!page.contains("<b>"))
        // The listed link works.
        connection.send("GET /sub/%3Cb%3E%26%22x%27.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.response()?.body == Array("x".utf8))
    }

    /// SIGTERM while a body goes out on a keep-alive connection: the body finishes, a request
    /// read after the shutdown began is answered with `Connection: close` (RFC 9112 §9.6), then
    /// the connection closes and the process exits 0. The grace period is long, so the answer
    /// does not depend on how fast a busy machine reads 16 MiB (the default's 10 s ran out once
    /// beside the flood test).
    @Test func answersDuringShutdownSayClose() throws {
        let tree = try ServedTree()
        let fd = open(tree.path("big.bin"), O_CREAT | O_WRONLY, 0o644)
        ftruncate(fd, 16 << 20)
        close(fd)
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--grace-period", "120"])
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.readSome(1 << 20) >= 1 << 20)
        server.signal(SIGTERM)
        _ = try server.waitForLog(containing: "http: connection ends after its answers in flight")
        connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        let first = try #require(connection.response())
        #expect(first.status == 200)
        #expect(first.body.count == 16 << 20)
        #expect(first.header("Connection") == nil)
        let second = try #require(connection.response())
        #expect(second.status == 200)
        #expect(second.header("Connection") == "close")
        #expect(second.body == tree.contents("size-1.bin"))
        #expect(connection.closedByServer())
        #expect(server.waitForExit() == 0)
    }

    /// SIGTERM: the listener closes, the process exits 0.
    @Test func gracefulShutdown() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, http: true)
        let idle = try RawHTTP(port: server.httpPort)
        idle.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(idle.response()?.status == 200)
        server.signal(SIGTERM)
        #expect(idle.closedByServer())
        #expect(server.waitForExit() == 0)
    }
}
