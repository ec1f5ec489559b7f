import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// Many boot servers fed from one origin (docs/fleet.md), with the real parts: nginx as the
/// origin (its access log counts what each server fetched), the real tftpd binary, three
/// instances on their own loopback addresses, each with a cache of its own.
@Suite(.requires(NginxOrigin.executable, "sha256sum", "curl"))
struct OriginTests {
    /// A served root with nothing the origin has, and a folder for caches and downloads.
    final class Site: @unchecked Sendable {
        let tree: ServedTree
        let origin: NginxOrigin

        init(origin: NginxOrigin) throws {
            tree = try ServedTree()
            self.origin = origin
        }

        func cache(_ name: String) -> String { tree.base + "/cache-" + name }

        /// A tftpd on `host` fed by the origin, its cache `cache(name)`.
        func server(
            _ name: String, host: String = "127.0.0.1", ttl: String = "1h", manifest: String? = nil,
            http: Bool = false, extra: [String] = []
        ) throws -> TFTPDProcess {
            try TFTPDProcess(
                root: tree.root, host: host, http: http,
                arguments: ["--origin", origin.url, "--cache", cache(name), "--origin-ttl", ttl]
                    + (manifest.map { ["--origin-manifest", $0] } ?? []) + extra)
        }
    }

    private static func sha256(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "tftpd-digest-" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        return String(try ExternalTool.run(["sha256sum", path]).output.prefix(64))
    }

    private static func fetch(_ name: String, from server: TFTPDProcess, host: String = "127.0.0.1") throws -> (
        bytes: [UInt8], error: (TFTPErrorCode, String)?
    ) {
        let result = try UDPPeer().fetch(Array(name.utf8), port: server.port, host: host)
        return (result.bytes, result.error)
    }

    private static func get(_ path: String, port: Int) throws -> RawHTTP.Response {
        let connection = try RawHTTP(port: port)
        connection.send("GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return try #require(connection.response())
    }

    /// A storm of 210 transfers over three servers with cold caches, five files each, all at
    /// once through the bundled client's load generator (every transfer compared with the
    /// origin's file, whole): every byte equal, and the origin's access log shows each file
    /// (and the manifest) fetched exactly once per server.
    @Test func aStormOverThreeServersCostsTheOriginOneFetchPerFilePerServer() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        let files: [(name: String, size: Int)] = [
            ("boot/pxelinux.0", 42_000), ("boot/ldlinux.c32", 122_000), ("images/vmlinuz", 4 << 20),
            ("images/initrd.img", 1 << 20), ("pxelinux.cfg/default", 300),
        ]
        var digests: [(file: String, sha256: String)] = []
        let local = site.tree.base + "/expected"
        for (index, file) in files.enumerated() {
            let bytes = ServedTree.randomBytes(file.size, seed: UInt64(500 + index))
            try origin.publish(file.name, bytes)
            digests.append((file.name, try Self.sha256(bytes)))
            try FileManager.default.createDirectory(
                atPath: (local + "/" + file.name as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: local + "/" + file.name))
        }
        try origin.publishManifest("SHA256SUMS", digests)
        let hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        let servers = try hosts.enumerated().map { index, host in
            try site.server("s\(index)", host: host, manifest: "SHA256SUMS")
        }
        var storms: [ExternalTool.Running] = []
        for (server, host) in zip(servers, hosts) {
            for file in files {
                storms.append(
                    try ExternalTool.start(
                        [
                            TFTPDProcess.binary("tftp"), "bench", "\(host):\(server.port)", file.name, "-n", "14",
                            "-c", "14", "--blksize", "1468", "--verify", local + "/" + file.name,
                        ], seconds: 120))
            }
        }
        for storm in storms {
            let result = storm.wait()
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("ok=14"), "\(result.output)")
        }
        let fetched = origin.requests.filter { $0.method == "GET" }
        for host in hosts {
            let mine = fetched.filter { $0.agent.contains("(\(host):") }
            for file in files.map(\.name) + ["SHA256SUMS"] {
                let fetches = mine.filter { $0.path == "/" + file }
                #expect(fetches.map(\.status) == [200], "\(host) fetched \(file): \(fetches)")
            }
            #expect(mine.count == files.count + 1, "\(host): \(mine)")
        }
    }

    /// A cold file is sent as it arrives: the OACK carries the size from the origin's
    /// headers, and DATA 1 comes while the download is still on its way (the file is not in
    /// the cache yet: it lands there whole, once verified); the rest follows, byte-equal.
    @Test func aColdFileIsSentWhileItIsStillArriving() throws {
        // 1 MiB a second: a 3 MiB file takes three seconds to come.
        let origin = try NginxOrigin(rate: 1 << 20)
        let site = try Site(origin: origin)
        let bytes = ServedTree.randomBytes(3 << 20, seed: 42)
        try origin.publish("images/big.iso", bytes)
        let server = try site.server("cold")
        let peer = try UDPPeer()
        peer.send(
            .readRequest(
                Request(
                    filename: Array("images/big.iso".utf8), mode: .octet,
                    options: [
                        TransferOption(name: "tsize", value: "0"), TransferOption(name: "blksize", value: "1468"),
                    ])),
            port: server.port)
        guard case (.success(.optionAcknowledgement(let options)), let tid)? = peer.receive() else {
            Issue.record("no OACK")
            return
        }
        #expect(options.first { $0.name == "tsize" }?.value == "\(bytes.count)")
        peer.send(.ack(block: 0), port: tid)
        guard case (.success(.data(1, let first)), tid)? = peer.receive() else {
            Issue.record("no DATA 1")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: site.cache("cold") + "/files/images/big.iso"))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: site.cache("cold") + "/parts"))?.count == 1)
        peer.send(.ack(block: 1), port: tid)
        let rest = peer.follow(tid: tid, from: 2, blockSize: 1468)
        #expect(rest.error == nil)
        #expect(identical(Array(first.readableBytesView) + rest.bytes, bytes))
        #expect(FileManager.default.fileExists(atPath: site.cache("cold") + "/files/images/big.iso"))
    }

    /// The origin stopped: a cached file is still served (stale, logged and counted), a cold
    /// one is refused at once with a clear ERROR (HTTP: 502) and the reason in the log; the
    /// origin back, tftpd notices by itself and the cold file comes. A restart while the
    /// origin is down serves what the cache held.
    @Test func anOriginThatGoesAwayLeavesTheCacheServing() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        let warm = ServedTree.randomBytes(200_000, seed: 1)
        let cold = ServedTree.randomBytes(50_000, seed: 2)
        try origin.publish("warm.bin", warm)
        try origin.publish("cold.bin", cold)
        // A TTL of 0: every request asks the origin first.
        var server = try site.server("down", ttl: "0", http: true, extra: ["--metrics", "127.0.0.1:0"])
        #expect(identical(try Self.fetch("warm.bin", from: server).bytes, warm))

        origin.stop()
        #expect(identical(try Self.fetch("warm.bin", from: server).bytes, warm))
        try server.waitForLog(containing: "origin: unreachable; serving the cached copy, stale")
        let refused = try Self.fetch("cold.bin", from: server)
        #expect(refused.error?.0 == .notDefined)
        #expect(refused.error?.1 == "Origin unavailable")
        #expect(try Self.get("/cold.bin", port: server.httpPort).status == 502)
        #expect(identical(try Self.get("/warm.bin", port: server.httpPort).body, warm))
        let metrics = try server.port(fromLogLineContaining: "serving metrics")
        let scrape = String(decoding: try Self.get("/metrics", port: metrics).body, as: UTF8.self)
        #expect(scrape.contains("tftpd_origin_stale_serves_total"))
        #expect(!scrape.contains("tftpd_origin_stale_serves_total 0\n"))

        try origin.start()
        try server.waitForLog(containing: "origin: reachable again")
        #expect(identical(try Self.fetch("cold.bin", from: server).bytes, cold))

        // Restarted while the origin is down: the cache's index is read back.
        origin.stop()
        server.signal(SIGTERM)
        _ = server.waitForExit()
        server = try site.server("down", ttl: "0")
        #expect(identical(try Self.fetch("warm.bin", from: server).bytes, warm))
        #expect(identical(try Self.fetch("cold.bin", from: server).bytes, cold))
    }

    /// A file replaced at the origin under the same name: a server whose TTL has passed (0
    /// here) revalidates (304 while unchanged) and serves the new one; one within its TTL
    /// (an hour) keeps serving the copy it has without asking. Never a mix of the two.
    @Test func aFileReplacedAtTheOriginIsServedNewOnceTheTTLHasPassed() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        let first = ServedTree.randomBytes(100_000, seed: 10)
        let second = ServedTree.randomBytes(90_000, seed: 11)
        try origin.publish("kernel", first)
        let expired = try site.server("expired", host: "127.0.0.1", ttl: "0")
        let fresh = try site.server("fresh", host: "127.0.0.2", ttl: "1h")
        #expect(identical(try Self.fetch("kernel", from: expired).bytes, first))
        #expect(identical(try Self.fetch("kernel", from: fresh, host: "127.0.0.2").bytes, first))
        #expect(identical(try Self.fetch("kernel", from: expired).bytes, first))

        try origin.publish("kernel", second)
        #expect(identical(try Self.fetch("kernel", from: expired).bytes, second))
        #expect(identical(try Self.fetch("kernel", from: fresh, host: "127.0.0.2").bytes, first))

        let asked = origin.requests.filter { $0.path == "/kernel" }
        #expect(asked.filter { $0.agent.contains("(127.0.0.1:") }.map(\.status) == [200, 304, 200])
        #expect(asked.filter { $0.agent.contains("(127.0.0.2:") }.map(\.status) == [200])
    }

    /// With a manifest, a file whose digest is not the manifest's, or that it does not list,
    /// is refused (TFTP ERROR, HTTP 502), logged, and not kept; a listed one is served.
    @Test func aFileThatFailsTheManifestIsRefused() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        let good = ServedTree.randomBytes(30_000, seed: 20)
        let tampered = ServedTree.randomBytes(30_000, seed: 21)
        try origin.publish("good.efi", good)
        try origin.publish("tampered.efi", tampered)
        try origin.publish("unlisted.efi", good)
        try origin.publishManifest(
            "SHA256SUMS",
            [
                ("good.efi", try Self.sha256(good)),
                ("tampered.efi", try Self.sha256(ServedTree.randomBytes(30_000, seed: 22))),
            ])
        let server = try site.server("manifest", manifest: "SHA256SUMS", http: true)
        #expect(identical(try Self.fetch("good.efi", from: server).bytes, good))

        let refused = try Self.fetch("tampered.efi", from: server)
        #expect(refused.error?.0 == .notDefined)
        #expect(refused.error?.1 == "File failed verification")
        let line = try server.waitForLog(containing: "origin: refused a file that fails the manifest")
        #expect(line.contains("tampered.efi"))
        #expect(try Self.fetch("unlisted.efi", from: server).error?.1 == "File failed verification")
        #expect(try Self.get("/tampered.efi", port: server.httpPort).status == 502)
        #expect(!FileManager.default.fileExists(atPath: site.cache("manifest") + "/files/tampered.efi"))
        #expect(!FileManager.default.fileExists(atPath: site.cache("manifest") + "/files/unlisted.efi"))
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: site.cache("manifest") + "/parts"))?.isEmpty == true)
    }

    /// Over HTTP, a cold file comes whole and byte-equal (curl), a name the origin lacks is
    /// 404, and an HTTPS origin signed by a private CA (contrib/make-boot-ca) is trusted with
    /// --origin-ca and refused without it.
    @Test(.requires("openssl")) func httpClientsAndAnHTTPSOrigin() throws {
        let tls = NSTemporaryDirectory() + "tftpd-origin-ca-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: tls) }
        let repository = "\(#filePath)".split(separator: "/").dropLast(3).joined(separator: "/")
        let made = try ExternalTool.run(["/" + repository + "/contrib/make-boot-ca", tls, "--ip", "127.0.0.1"])
        try #require(made.status == 0, "\(made.output)")
        let origin = try NginxOrigin(tls: (tls + "/server.pem", tls + "/server.key"))
        let site = try Site(origin: origin)
        let bytes = ServedTree.randomBytes(2 << 20, seed: 30)
        try origin.publish("images/rootfs.img", bytes)

        let trusted = try site.server("trusted", http: true, extra: ["--origin-ca", tls + "/ca.pem"])
        let downloads = try site.tree.downloads()
        let curl = try ExternalTool.run([
            "curl", "-sS", "-f", "-o", downloads + "/rootfs.img",
            "http://127.0.0.1:\(trusted.httpPort)/images/rootfs.img",
        ])
        #expect(curl.status == 0, "\(curl.output)")
        #expect(
            identical(Array((try? Data(contentsOf: URL(fileURLWithPath: downloads + "/rootfs.img"))) ?? Data()), bytes))
        #expect(try Self.get("/images/missing.img", port: trusted.httpPort).status == 404)
        #expect(identical(try Self.fetch("images/rootfs.img", from: trusted).bytes, bytes))

        let untrusting = try site.server("untrusting", host: "127.0.0.2")
        let refused = try Self.fetch("images/rootfs.img", from: untrusting, host: "127.0.0.2")
        #expect(refused.error?.1 == "Origin unavailable")
        let line = try untrusting.waitForLog(containing: "origin: unreachable; the file is not cached")
        #expect(line.lowercased().contains("certificate") || line.lowercased().contains("handshake"), "\(line)")
    }

    /// Profiles from the origin: `--machines URL` is asked with its ETag (a new version is
    /// served after SIGHUP or the next poll), the version in use stays while the origin is
    /// down, a restart then starts from the copy kept in the cache, and a server with no
    /// copy starts without profiles, not ready (/readyz 503) until the origin answers.
    @Test func profilesFromTheOrigin() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        try origin.publish("machines.yaml", Array(ReloadTests.profiles(role: "one").utf8))
        let url = origin.url + "/machines.yaml"
        func script(_ server: TFTPDProcess) throws -> String {
            String(decoding: try Self.get("/boot.ipxe", port: server.httpPort).body, as: UTF8.self)
        }
        var server = try site.server("profiles", http: true, extra: ["--machines", url])
        #expect(try script(server) == "#!ipxe\necho role=one\n")

        try origin.publish("machines.yaml", Array(ReloadTests.profiles(role: "two").utf8))
        server.signal(SIGHUP)
        #expect(try server.waitForLog(containing: "config: reloaded").contains("because=SIGHUP"))
        #expect(try script(server) == "#!ipxe\necho role=two\n")

        origin.stop()
        server.signal(SIGHUP)
        let kept = try server.waitForLog(containing: "config: kept the version in use")
        #expect(kept.contains("file=machines"))
        #expect(try script(server) == "#!ipxe\necho role=two\n")

        server.signal(SIGTERM)
        _ = server.waitForExit()
        server = try site.server("profiles", http: true, extra: ["--machines", url])
        try server.waitForLog(containing: "starting with the copy kept from the last run")
        #expect(try script(server) == "#!ipxe\necho role=two\n")

        let bare = try TFTPDProcess(
            root: site.tree.root, host: "127.0.0.2", http: true,
            arguments: ["--machines", url, "--status", "127.0.0.1:0"])
        try bare.waitForLog(containing: "no copy is kept; starting without it")
        let status = try bare.port(fromLogLineContaining: "serving status page")
        #expect(try Self.get("/readyz", port: status).status == 503)
        #expect(try Self.get("/livez", port: status).status == 200)
        try origin.publish("machines.yaml", Array(ReloadTests.profiles(role: "three").utf8))
        try origin.start()
        // Asked every ten seconds: the next ask finds it.
        try bare.waitForLog(containing: "config: reloaded")
        #expect(try Self.get("/readyz", port: status).status == 200)
        #expect(try script(bare) == "#!ipxe\necho role=three\n")
    }

    /// The cache keeps at most --cache-size: the least recently used file goes first (from
    /// the disk too), and is fetched again when asked for.
    @Test func theLeastRecentlyUsedFileLeavesAFullCache() throws {
        let origin = try NginxOrigin()
        let site = try Site(origin: origin)
        let files = (0..<3).map { ServedTree.randomBytes(150_000, seed: UInt64(40 + $0)) }
        for (index, bytes) in files.enumerated() { try origin.publish("f\(index).bin", bytes) }
        let server = try site.server("small", extra: ["--cache-size", "400K"])
        #expect(identical(try Self.fetch("f0.bin", from: server).bytes, files[0]))
        #expect(identical(try Self.fetch("f1.bin", from: server).bytes, files[1]))
        #expect(identical(try Self.fetch("f0.bin", from: server).bytes, files[0]))
        #expect(identical(try Self.fetch("f2.bin", from: server).bytes, files[2]))
        let line = try server.waitForLog(containing: "origin: evicted from the cache")
        #expect(line.contains("f1.bin"))
        #expect(!FileManager.default.fileExists(atPath: site.cache("small") + "/files/f1.bin"))
        #expect(identical(try Self.fetch("f1.bin", from: server).bytes, files[1]))
        #expect(origin.requests.filter { $0.path == "/f1.bin" }.map(\.status) == [200, 200])
        #expect(origin.requests.filter { $0.path == "/f0.bin" }.map(\.status) == [200])
    }
}
