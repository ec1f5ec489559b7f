import Foundation
import Glibc
import Testing

/// The HTTPS listener of the real binary against curl: the same files and answers as HTTP,
/// bodies copied through TLS, what firmware without elliptic curves can speak, and clear
/// server lines when a client refuses the certificate; the certificate re-read on change
/// and on SIGHUP (docs/https-boot.md).
@Suite(.requires("curl")) struct HTTPSTests {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/tls").path
    private static func fixture(_ name: String) -> String { fixtures + "/" + name }
    private static let served = (cert: fixture("server.pem"), key: fixture("server.key"))

    private func curl(_ server: TFTPDProcess, _ target: String, _ extra: [String] = [], ca: String = "ca.pem") throws
        -> ExternalTool.Result
    {
        try ExternalTool.run(
            ["curl", "-sS", "--cacert", Self.fixture(ca)] + extra + ["https://127.0.0.1:\(server.httpsPort)\(target)"])
    }

    /// Small files come from the cache or a read; large ones are copied through TLS in
    /// chunks; ranges and HEAD as over HTTP.
    @Test func filesRangesAndHead() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, https: Self.served)
        for name in ["size-1.bin", "size-100003.bin", "sub/deeper/kernel"] {
            let out = try tree.downloads() + "/f"
            #expect(try curl(server, "/\(name)", ["-o", out]).status == 0)
            #expect(tree.contents(name) == (try? Array(Data(contentsOf: URL(fileURLWithPath: out)))))
        }
        let big = try tree.downloads() + "/big"
        let fd = open(tree.path("big.bin"), O_CREAT | O_WRONLY, 0o644)
        ftruncate(fd, 3 << 20 + 12345)
        close(fd)
        #expect(try curl(server, "/big.bin", ["-o", big]).status == 0)
        var info = stat()
        #expect(stat(big, &info) == 0 && info.st_size == 3 << 20 + 12345)
        let range = try curl(server, "/size-100003.bin", ["-r", "70000-70009", "-o", "-", "-w", "%{http_code}"])
        #expect(range.output.hasSuffix("206"))
        let head = try curl(server, "/size-100003.bin", ["-I"])
        #expect(head.output.contains("Content-Length: 100003"))
        #expect(try curl(server, "/missing", ["-o", "/dev/null", "-w", "%{http_code}"]).output == "404")
    }

    /// What EDK2 built without elliptic curves can speak: TLS 1.2, RSA key exchange, AES-GCM
    /// or AES-CBC.
    @Test(arguments: ["AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA"])
    func firmwareWithoutEllipticCurves(_ cipher: String) throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, https: Self.served)
        let out = try tree.downloads() + "/f"
        let result = try curl(server, "/size-1468.bin", ["--tls-max", "1.2", "--ciphers", cipher, "-o", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(tree.contents("size-1468.bin") == (try? Array(Data(contentsOf: URL(fileURLWithPath: out)))))
    }

    /// A client that does not trust the signing CA, and one that finds the certificate
    /// expired: each refuses, and the server says which and what to do. Over TLS 1.2 (what
    /// EDK2 speaks) the client's alert says why; over TLS 1.3 an OpenSSL client's refusal
    /// cannot be read, and the server says so.
    @Test func refusedCertificatesAreExplainedOnTheServer() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, https: Self.served)
        let tls12 = ["--tls-max", "1.2", "-o", "/dev/null"]
        #expect(try curl(server, "/size-1.bin", tls12, ca: "other-ca.pem").status != 0)
        let line = try server.waitForLog(containing: "tls: handshake failed")
        #expect(line.contains("reason=unknown-ca"))
        #expect(line.contains("enroll the CA"))
        #expect(try curl(server, "/size-1.bin", ["-o", "/dev/null"], ca: "other-ca.pem").status != 0)
        #expect(try server.waitForLog(containing: "tls: handshake failed", count: 2).contains("reason=client-aborted"))

        let expired = try TFTPDProcess(
            root: tree.root, https: (Self.fixture("expired.pem"), Self.fixture("expired.key")))
        #expect(
            try expired.waitForLog(containing: "tls: the served certificate has expired").contains(
                "not_after=2021-01-01"))
        #expect(try curl(expired, "/size-1.bin", tls12).status != 0)
        #expect(try expired.waitForLog(containing: "tls: handshake failed").contains("reason=certificate-expired"))
    }

    /// Plain HTTP to the HTTPS port: refused, and said so.
    @Test func plainHTTPToTheHTTPSPort() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, https: Self.served)
        let connection = try RawHTTP(port: server.httpsPort)
        connection.send("GET /size-1.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.response() == nil)
        #expect(try server.waitForLog(containing: "tls: handshake failed").contains("reason=plain-http"))
    }

    /// A client that resets the connection mid-handshake without an alert (EDK2 refusing the
    /// certificate) is reported as `client-closed`; a connection that closes before sending a
    /// byte (a port check) is only a debug line.
    @Test func aResetMidHandshakeIsReportedAndAPortCheckIsNot() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, https: Self.served)
        do { _ = try RawHTTP(port: server.httpsPort) }
        _ = try server.waitForLog(containing: "tls: connection closed before a handshake began")
        do {
            let connection = try RawHTTP(port: server.httpsPort)
            // The start of a ClientHello record: the handshake begins and waits for the rest.
            connection.send(bytes: [0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03])
            connection.resetOnClose()
        }
        let line = try server.waitForLog(containing: "tls: handshake failed")
        #expect(line.contains("reason=client-closed"))
        #expect(line.contains("check the CA enrolled"))
    }

    /// A certificate replaced on disk serves new connections; SIGHUP re-reads at once; a
    /// broken file keeps the one in use.
    @Test func theCertificateIsReReadOnChangeAndOnSIGHUP() throws {
        let tree = try ServedTree()
        let dir = try tree.downloads()
        let cert = dir + "/cert.pem"
        let key = dir + "/key.pem"
        try FileManager.default.copyItem(atPath: Self.served.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: Self.served.key, toPath: key)
        let server = try TFTPDProcess(root: tree.root, https: (cert, key))
        #expect(try curl(server, "/size-1.bin", ["-o", "/dev/null"]).status == 0)
        server.signal(SIGHUP)
        let reloaded = try server.waitForLog(containing: "config: reloaded")
        #expect(reloaded.contains("because=SIGHUP") && reloaded.contains("file=tls"))
        // A broken certificate: refused, the old one stays.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: cert))
        #expect(try server.waitForLog(containing: "config: kept the version in use").contains("file=tls"))
        #expect(try curl(server, "/size-1.bin", ["-o", "/dev/null"]).status == 0)
        // The expired pair in place: served from the next connection on.
        try FileManager.default.removeItem(atPath: cert)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: Self.fixture("expired.pem"), toPath: cert)
        try FileManager.default.copyItem(atPath: Self.fixture("expired.key"), toPath: key)
        _ = try server.waitForLog(containing: "tls: the served certificate has expired")
        #expect(try curl(server, "/size-1.bin", ["-o", "/dev/null"]).status != 0)
    }

    /// `--check` loads the certificate and says what it names and until when; an expired one
    /// fails the check; a key that is not the certificate's stops the start with exit 65.
    @Test func checkAndStartRefuseWhatCannotBeServed() throws {
        let tree = try ServedTree()
        let tftpd = TFTPDProcess.binary("tftpd")
        let base =
            [tftpd, "--root", tree.root, "--listen", "127.0.0.1:0", "--https", "127.0.0.1:0"]
            + TFTPDProcess.privilegeArguments([])
        let good = try ExternalTool.run(
            base + ["--tls-cert", Self.served.cert, "--tls-key", Self.served.key, "--check"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("ok    --tls-cert: \(Self.served.cert) with its key: 127.0.0.1, ::1, localhost"))
        let expired = try ExternalTool.run(
            base + ["--tls-cert", Self.fixture("expired.pem"), "--tls-key", Self.fixture("expired.key"), "--check"])
        #expect(expired.status == 1)
        #expect(expired.output.contains("expired on 2021-01-01"))
        let mismatched = try ExternalTool.run(
            base + ["--tls-cert", Self.served.cert, "--tls-key", Self.fixture("expired.key")], seconds: 20)
        #expect(mismatched.status == 65)
        #expect(mismatched.output.contains("is not the key of the certificate"))
    }
}
