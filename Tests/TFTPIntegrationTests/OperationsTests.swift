import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// The operator-facing features, one test (or more) each, against the real binary: single-port mode,
/// port ranges, privilege drop, --map, metrics, socket activation, log formats, --check.
@Suite struct OperationsTests {
    private func name(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let tftp = TFTPDProcess.binary("tftp")
    static let tftpd = TFTPDProcess.binary("tftpd")

    // MARK: - Single port

    /// Every DATA comes from the listening port; two clients interleaved are told apart by
    /// their ports; a repeated RRQ mid-transfer is ignored, not a second transfer.
    @Test func singlePortServesEveryTransferFromTheListeningPort() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--single-port"])
        let first = try UDPPeer()
        let second = try UDPPeer()
        var inner: (bytes: [UInt8], tid: Int?, error: (TFTPErrorCode, String)?)?
        let outer = first.fetch(name("size-100003.bin"), port: server.port) { block, _ in
            if block == 2 {
                first.send(.readRequest(Request(filename: name("size-100003.bin"), mode: .octet)), port: server.port)
            }
            if block == 3, inner == nil {
                inner = second.fetch(
                    name("sub/deeper/kernel"), options: [TransferOption(name: "blksize", value: "1468")],
                    port: server.port)
            }
        }
        #expect(outer.error == nil)
        #expect(outer.tid == server.port)
        #expect(outer.bytes == tree.contents("size-100003.bin"))
        #expect(inner?.error == nil)
        #expect(inner?.tid == server.port)
        #expect(inner?.bytes == tree.contents("sub/deeper/kernel"))
        // Two transfers, not three: the repeated RRQ did not start one.
        try server.waitForLog(containing: "outcome=completed", count: 2)
        #expect(server.logText.split(separator: "\n").filter { $0.contains("outcome=") }.count == 2)
    }

    /// curl (lockstep, 512) and our client (windowed, 1468 and 65464) in single-port mode.
    @Test(arguments: [0, 512, 1469, 100_003])
    func singlePortWithCurlAndOurClient(_ size: Int) throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, arguments: ["--single-port"])
        let file = "size-\(size).bin"
        let out = try tree.downloads()
        if ExternalTool.shouldUse("curl") {
            // curl rejects the tsize 0 of an empty file; it gets no options.
            let options = size == 0 ? ["--tftp-no-options"] : ["--tftp-blksize", "512"]
            let curl = try ExternalTool.run(
                ["curl", "-sS"] + options + ["-o", out + "/curl", "tftp://127.0.0.1:\(server.port)/\(file)"])
            #expect(curl.status == 0, "\(curl.output)")
            #expect(GetCommandTests.contents(out + "/curl") == tree.contents(file))
        }
        for options in [["--blksize", "1468", "--windowsize", "16"], ["--blksize", "65464", "--windowsize", "4"]] {
            let ours = try ExternalTool.run(
                [Self.tftp, "get", "127.0.0.1:\(server.port)", file, "-o", out + "/ours"] + options)
            #expect(ours.status == 0, "\(ours.output)")
            #expect(GetCommandTests.contents(out + "/ours") == tree.contents(file))
        }
    }

    // MARK: - Port range

    private static func freePortBlock(_ count: Int) -> Int {
        // A block of ports nothing on this machine binds (tests bind port 0, which Linux
        // takes from 32768-60999); checked by binding each one.
        for _ in 0..<50 {
            let low = Int.random(in: 61000...(65535 - count))
            let free = (low..<(low + count)).allSatisfy { port in
                (try? UDPPeer().bindLoopback(port: port)) != nil
            }
            if free { return low }
        }
        return 61000
    }

    /// Transfer sockets take their ports from --port-range only.
    @Test func portRangeIsRespected() throws {
        let tree = try ServedTree()
        let low = Self.freePortBlock(4)
        let server = try TFTPDProcess(root: tree.root, arguments: ["--port-range", "\(low):\(low + 3)"])
        var seen: Set<Int> = []
        for _ in 0..<8 {
            // A fresh client port each time: the same port right after a transfer could
            // still be counted as that transfer, and a repeated request is ignored.
            let result = try UDPPeer().fetch(name("size-1469.bin"), port: server.port)
            #expect(result.error == nil)
            #expect(result.bytes == tree.contents("size-1469.bin"))
            let tid = try #require(result.tid)
            #expect((low...(low + 3)).contains(tid), "TID \(tid) outside \(low)-\(low + 3)")
            seen.insert(tid)
        }
        #expect(!seen.isEmpty)
    }

    /// A range with every port taken: the next request gets ERROR 0 from the listening
    /// port, and the running transfer is unharmed.
    @Test func exhaustedPortRangeGetsAnError() throws {
        let tree = try ServedTree()
        let low = Self.freePortBlock(1)
        let server = try TFTPDProcess(root: tree.root, arguments: ["--port-range", "\(low):\(low)"])
        let holder = try UDPPeer()
        holder.send(.readRequest(Request(filename: name("size-100003.bin"), mode: .octet)), port: server.port)
        let firstData = holder.receive()
        #expect(firstData?.port == low)
        let late = try UDPPeer()
        late.send(.readRequest(Request(filename: name("size-1.bin"), mode: .octet)), port: server.port)
        let refusal = late.receive()
        #expect(refusal?.port == server.port)
        guard case .success(.error(let code, let message))? = refusal?.packet else {
            Issue.record("expected an ERROR, got \(String(describing: refusal))")
            return
        }
        #expect(code == .notDefined)
        #expect(message.contains("No transfer port free"))
        // The held transfer still runs: its next ACK gets DATA 2.
        holder.send(.ack(block: 1), port: low)
        guard case .success(.data(let block, _))? = holder.receive()?.packet else {
            Issue.record("the held transfer stopped")
            return
        }
        #expect(block == 2)
        holder.send(.error(code: .notDefined, message: "done"), port: low)
    }

    // MARK: - Privileges

    /// Started as root with --user nobody and a root that is a symlink: the IDs in /proc are
    /// nobody's, and files are served.
    @Test(.enabled(if: geteuid() == 0, "needs root")) func privilegeDropIsVisibleInProc() throws {
        let tree = try ServedTree()
        let link = tree.base + "/served-link"
        #expect(symlink(tree.root, link) == 0)
        chmod(tree.base, 0o755)
        let nobody = try ServiceAccount.lookup("nobody")
        let server = try TFTPDProcess(root: link, arguments: ["--user", "nobody"])
        try server.waitForLog(containing: "dropped privileges")
        let status = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)
        let uids = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst()
        let gids = status.split(separator: "\n").first { $0.hasPrefix("Gid:") }?.split(separator: "\t").dropFirst()
        #expect(uids.map(Array.init) == Array(repeating: Substring("\(nobody.uid)"), count: 4))
        #expect(gids.map(Array.init) == Array(repeating: Substring("\(nobody.gid)"), count: 4))
        let tasks = try FileManager.default.contentsOfDirectory(
            atPath: "/proc/\(server.process.processIdentifier)/task")
        for task in tasks {
            let taskStatus = try String(
                contentsOfFile: "/proc/\(server.process.processIdentifier)/task/\(task)/status", encoding: .utf8)
            #expect(taskStatus.contains("Uid:\t\(nobody.uid)\t\(nobody.uid)\t\(nobody.uid)\t\(nobody.uid)"))
        }
        let result = try UDPPeer().fetch(name("size-1468.bin"), port: server.port)
        #expect(result.error == nil)
        #expect(result.bytes == tree.contents("size-1468.bin"))
    }

    /// As root without --user or --allow-root, tftpd refuses to start (exit 77).
    @Test(.enabled(if: geteuid() == 0, "needs root")) func refusesToServeAsRoot() throws {
        let tree = try ServedTree()
        let result = try ExternalTool.run([Self.tftpd, "--root", tree.root, "--listen", "127.0.0.1:0"])
        #expect(result.status == 77)
        #expect(result.output.contains("refusing to serve as root"))
        let unknown = try ExternalTool.run(
            [Self.tftpd, "--root", tree.root, "--listen", "127.0.0.1:0", "--user", "no-such-user-here"])
        #expect(unknown.status == 67)
        #expect(unknown.output.contains("no such user"))
    }

    // MARK: - Map rules

    /// Rules apply in order before the path check, over TFTP and HTTP; a rule pointing
    /// outside the root is still refused by the root check.
    @Test func mapRulesRewriteNamesButNeverEscape() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(
            root: tree.root, http: true,
            arguments: ["--map", "tftpboot/=", "--map", "pxelinux.cfg/=sub/", "--map", "out/=../outside/"])
        let mapped = try UDPPeer().fetch(name("/tftpboot/pxelinux.cfg/deeper/kernel"), port: server.port)
        #expect(mapped.error == nil)
        #expect(mapped.bytes == tree.contents("sub/deeper/kernel"))
        let stripped = try UDPPeer().fetch(name("tftpboot/size-512.bin"), port: server.port)
        #expect(stripped.bytes == tree.contents("size-512.bin"))
        let unmapped = try UDPPeer().fetch(name("size-1.bin"), port: server.port)
        #expect(unmapped.bytes == tree.contents("size-1.bin"))
        // ../outside/secret after the map: the sanitizer refuses it, nothing is sent.
        let escape = try UDPPeer().fetch(name("out/secret"), port: server.port)
        #expect(escape.error != nil)
        #expect(escape.bytes.isEmpty)
        if ExternalTool.shouldUse("curl") {
            let out = try tree.downloads() + "/http"
            let curl = try ExternalTool.run(
                [
                    "curl", "-sS", "-o", out, "-w", "%{http_code}",
                    "http://127.0.0.1:\(server.httpPort)/tftpboot/pxelinux.cfg/deeper/kernel",
                ])
            #expect(curl.output == "200")
            #expect(GetCommandTests.contents(out) == tree.contents("sub/deeper/kernel"))
        }
        assertServes(server, tree)
    }

    private func assertServes(_ server: TFTPDProcess, _ tree: ServedTree) {
        let result = (try? UDPPeer())?.fetch(name("size-1468.bin"), port: server.port)
        #expect(result?.error == nil)
        #expect(result?.bytes == tree.contents("size-1468.bin"))
    }

    // MARK: - Metrics

    /// Scraped with curl and parsed as the Prometheus text format: the counters match what
    /// was done (two completed, one refused, one size probe, one HTTP 200 and one 404).
    @Test(.requires("curl")) func metricsAreScrapedAndParsed() throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--metrics", "127.0.0.1:0"])
        let metricsPort = try server.port(fromLogLineContaining: "serving metrics")
        #expect(try UDPPeer().fetch(name("size-1469.bin"), port: server.port).error == nil)
        #expect(try UDPPeer().fetch(name("size-100003.bin"), port: server.port).error == nil)
        #expect(try UDPPeer().fetch(name("missing"), port: server.port).error?.0 == .fileNotFound)
        let peer = try UDPPeer()
        // A size probe: tsize asked, OACK answered with an ERROR (EDK2, iPXE).
        peer.send(
            .readRequest(
                Request(
                    filename: name("size-512.bin"), mode: .octet, options: [TransferOption(name: "tsize", value: "0")])
            ), port: server.port)
        let oack = try #require(peer.receive())
        #expect(oack.packet == .success(.optionAcknowledgement([TransferOption(name: "tsize", value: "512")])))
        peer.send(Packet.error(code: .optionRefused, message: "probe"), port: oack.port)
        _ = try ExternalTool.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(server.httpPort)/size-1.bin"])
        _ = try ExternalTool.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(server.httpPort)/nope"])
        try server.waitForLog(containing: "outcome=", count: 4)
        try server.waitForLog(containing: "status=404")

        let scrape = try ExternalTool.run(["curl", "-sS", "-i", "http://127.0.0.1:\(metricsPort)/metrics"])
        #expect(scrape.status == 0)
        let parts = scrape.output.components(separatedBy: "\r\n\r\n")
        #expect(parts.first?.contains("Content-Type: text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        let sample = #/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/#
        for line in (parts.dropFirst().first ?? "").split(separator: "\n") where !line.hasPrefix("#") {
            guard let match = try sample.wholeMatch(in: String(line)), let value = Double(match.2) else {
                Issue.record("not a Prometheus sample line: \(line)")
                continue
            }
            samples[String(match.1)] = value
        }
        #expect(samples["tftp_transfers_started_total"] == 4)
        #expect(samples["tftp_transfers_completed_total"] == 2)
        #expect(samples["tftp_size_probes_total"] == 1)
        #expect(samples[#"tftp_transfers_failed_total{reason="refused"}"#] == 1)
        #expect(samples["tftp_bytes_sent_total"].map { Int($0) } == 1469 + 100_003)
        #expect(samples["tftp_transfer_duration_seconds_count"] == 4)
        #expect(samples["tftp_active_transfers"] == 0)
        #expect(samples["tftp_listener_drops_total"] == 0)
        // Without --threads, one engine thread takes requests while it has room.
        #expect(samples["tftp_engine_threads_active"] == 1)
        #expect(samples[#"tftp_engine_busy_ratio{thread="0"}"#].map { (0...1).contains($0) } == true)
        #expect(samples[#"http_requests_total{status="200"}"#] == 1)
        #expect(samples[#"http_requests_total{status="404"}"#] == 1)
        let notFound = try ExternalTool.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(metricsPort)/other"])
        #expect(notFound.output == "404")
    }

    // MARK: - Socket activation

    /// The test binds the socket itself and passes it as systemd does (fd 3, LISTEN_FDS=1,
    /// LISTEN_PID of the server): tftpd serves on it without --listen. Datagrams sent
    /// before tftpd reads them wait in the socket, so no readiness wait is needed.
    @Test func socketActivationServesThePassedSocket() throws {
        let tree = try ServedTree()
        let passed = try UDPPeer()
        let port = try passed.bindLoopback()
        let log = tree.base + "/activated.log"
        let server = try SpawnedProcess(
            ["/bin/sh", "-c", #"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@" 2>"$LOG""#, Self.tftpd, "--root", tree.root]
                + TFTPDProcess.privilegeArguments([]),
            environment: ["LOG": log], passing: passed.fd)
        defer { server.stop() }
        let result = try UDPPeer().fetch(name("size-100003.bin"), port: port)
        #expect(result.error == nil)
        let same = result.bytes == tree.contents("size-100003.bin")
        #expect(same)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("address=127.0.0.1:\(port)"), "\(text)")
    }

    // MARK: - Log formats

    @Test func jsonAndLogfmtLines() throws {
        let tree = try ServedTree()
        for format in ["json", "logfmt"] {
            let server = try TFTPDProcess(root: tree.root, arguments: ["--log-format", format])
            let result = try UDPPeer().fetch(name("size-513.bin"), port: server.port)
            #expect(result.error == nil)
            let line = try server.waitForLog(containing: "completed")
            if format == "json" {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
                #expect(object?["msg"] == "transfer")
                #expect(object?["outcome"] == "completed")
                #expect(object?["bytes"] == "513")
                #expect(object?["file"] == "size-513.bin")
                #expect(object?["ts"]?.hasSuffix("Z") == true)
            } else {
                #expect(line.hasPrefix("ts="))
                #expect(line.contains(" level=info msg=transfer "))
                #expect(line.contains(" bytes=513 "))
                #expect(line.contains(" outcome=completed"))
            }
        }
    }

    // MARK: - --check

    @Test func checkSaysWhatIsWrongAndExits() throws {
        let tree = try ServedTree()
        let good = try ExternalTool.run(
            [Self.tftpd, "--root", tree.root, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--check"]
                + TFTPDProcess.privilegeArguments([]))
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("configuration ok"))

        // A port another socket holds, and a root that does not exist.
        let holder = try UDPPeer()
        let taken = try holder.bindLoopback()
        let bad = try ExternalTool.run(
            [Self.tftpd, "--root", tree.base + "/missing", "--listen", "127.0.0.1:\(taken)", "--check"]
                + TFTPDProcess.privilegeArguments([]))
        #expect(bad.status == 1)
        #expect(bad.output.contains("FAIL  --root"))
        #expect(bad.output.contains("FAIL  --listen: 127.0.0.1:\(taken)"))
        #expect(bad.output.contains("configuration has 2 problem(s)"))

        // A proxyDHCP interface that is not there is named.
        let proxy = try ExternalTool.run(
            [
                Self.tftpd, "--root", tree.root, "--listen", "127.0.0.1:0", "--proxy-dhcp", "nosuchif0",
                "--boot-file", "bios=undionly.kpxe", "--check",
            ] + TFTPDProcess.privilegeArguments([]))
        #expect(proxy.status == 1)
        #expect(proxy.output.contains("FAIL  --proxy-dhcp: nosuchif0: no such interface"), "\(proxy.output)")
    }

    // MARK: - Block size default

    /// Without --max-blksize the limit comes from the interface MTU: loopback's 65536
    /// allows the full 65464; an explicit --max-blksize wins.
    @Test func blockSizeDefaultFollowsTheMTUAndTheFlagWins() throws {
        let tree = try ServedTree()
        let big = [TransferOption(name: "blksize", value: "65464")]
        let server = try TFTPDProcess(root: tree.root)
        #expect(try server.waitForLog(containing: "listening").contains("mtu="))
        let peer = try UDPPeer()
        peer.send(
            .readRequest(Request(filename: name("size-100003.bin"), mode: .octet, options: big)), port: server.port)
        let oack = peer.receive()
        if case .success(.optionAcknowledgement(let options))? = oack?.packet {
            let mtu = InterfaceMTU.forListener(try SocketAddress(ipAddress: "127.0.0.1", port: 0)) ?? 1500
            #expect(options.first { $0.key == "blksize" }?.value == "\(min(65464, mtu - 32))")
        } else {
            Issue.record("no OACK: \(String(describing: oack))")
        }
        if let port = oack?.port { peer.send(.error(code: .notDefined, message: "done"), port: port) }

        let capped = try TFTPDProcess(root: tree.root, arguments: ["--max-blksize", "1024"])
        peer.send(
            .readRequest(Request(filename: name("size-100003.bin"), mode: .octet, options: big)), port: capped.port)
        guard case .success(.optionAcknowledgement(let options))? = peer.receive()?.packet else {
            Issue.record("no OACK")
            return
        }
        #expect(options.first { $0.key == "blksize" }?.value == "1024")
    }
}
