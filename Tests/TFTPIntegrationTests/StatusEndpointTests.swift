import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// The status page (`--status`) of the real binary while real transfers run: the JSON API
/// field by field, and the page in headless Chromium (its DOM and a screenshot).
@Suite(.serialized) struct StatusEndpointTests {
    let tree: ServedTree
    let server: TFTPDProcess
    let statusPort: Int

    init() throws {
        tree = try ServedTree()
        server = try TFTPDProcess(root: tree.root, arguments: ["--status", "127.0.0.1:0"])
        statusPort = try server.port(fromLogLineContaining: "serving status page")
    }

    private static func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func get(_ path: String) throws -> RawHTTP.Response? {
        let connection = try RawHTTP(port: statusPort)
        connection.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
        return connection.response()
    }

    private func api() throws -> [String: Any] {
        let response = try #require(try get("/api/transfers"))
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// The transfers a boot would show: one completed, an EDK2-style probe then its fetch, a
    /// missing file, a refused name, a write request, and one still running (its client
    /// acknowledged DATA 1 and went quiet). Returns that last client, which must stay open.
    private func runTransfers() throws -> UDPPeer {
        #expect(try UDPPeer().fetch(Self.name("size-1468.bin"), port: server.port).error == nil)
        let probe = try ExternalTool.run([
            TFTPDProcess.binary("tftp"), "get", "127.0.0.1:\(server.port)", "sub/deeper/kernel", "-o",
            try tree.downloads() + "/k", "--as", "uefi",
        ])
        #expect(probe.status == 0, "\(probe.output)")
        #expect(try UDPPeer().fetch(Self.name("missing.bin"), port: server.port).error?.0 == .fileNotFound)
        #expect(try UDPPeer().fetch(Self.name("../outside/secret"), port: server.port).error?.0 == .accessViolation)
        let writer = try UDPPeer()
        writer.send(.writeRequest(Request(filename: Self.name("new.bin"), mode: .octet)), port: server.port)
        #expect(writer.receive() != nil)
        let running = try UDPPeer()
        running.send(.readRequest(Request(filename: Self.name("size-100003.bin"), mode: .octet)), port: server.port)
        guard case (.success(.data(1, _)), let tid)? = running.receive() else {
            Issue.record("no DATA 1")
            return running
        }
        running.send(.ack(block: 1), port: tid)
        #expect(running.receive() != nil)  // DATA 2, never acknowledged: the transfer runs on
        try server.waitForLog(containing: "outcome=", count: 5)
        try server.waitForLog(containing: "reason=write-request")
        return running
    }

    /// `/api/transfers`, field by field (docs/operations.md documents them).
    @Test func apiReportsEveryTransferFieldByField() throws {
        let running = try runTransfers()
        _ = running
        let json = try api()
        #expect(json["now"] is Int)
        #expect(json["started_at"] is Int)
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["finished"] as? Int == 5)
        #expect(totals["running"] as? Int == 1)
        #expect(
            totals["outcomes"] as? [String: Int] == ["completed": 2, "size-probe": 1, "refused": 2])
        #expect(totals["refused"] as? [String: Int] == ["write-request": 1])

        // The engine's threads: one per core, the first alone taking requests while it has
        // room (docs/architecture.md, "Engine threads that pay for themselves").
        let engine = try #require(json["engine"] as? [String: Any])
        #expect(engine["threads"] as? Int == System.coreCount)
        #expect(engine["active"] as? Int == 1)
        #expect(engine["adaptive"] as? Bool == (System.coreCount > 1))
        let busy = try #require(engine["busy"] as? [Double])
        #expect(busy.count == System.coreCount && busy.allSatisfy { (0...1).contains($0) })

        let active = try #require(json["active"] as? [[String: Any]])
        #expect(active.count == 1)
        let first = try #require(active.first)
        #expect(first["file"] as? String == "size-100003.bin")
        #expect((first["client"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(first["requested"] as? String == "")
        #expect(first["granted"] as? String == "")
        #expect(first["bytes"] as? Int == 512)
        #expect(first["size"] as? Int == 100_003)
        #expect(first["elapsed_ms"] is Int)
        #expect(first["retransmits"] is Int)
        #expect(first["state"] as? String == "sending")

        let recent = try #require(json["recent"] as? [[String: Any]])
        #expect(
            recent.map { $0["file"] as? String } == [
                "../outside/secret", "missing.bin", "sub/deeper/kernel", "sub/deeper/kernel", "size-1468.bin",
            ])
        #expect(
            recent.map { $0["outcome"] as? String } == ["refused", "refused", "completed", "size-probe", "completed"])
        #expect(recent[0]["error"] as? String == "2 invalid name")
        #expect(recent[1]["error"] as? String == "1 not found")
        #expect(recent[2]["error"] is NSNull)
        #expect(recent[3]["requested"] as? String == "tsize=0 blksize=1468 windowsize=4")
        #expect(recent[3]["granted"] as? String == "tsize=70000 blksize=1468 windowsize=4")
        #expect(recent[2]["bytes"] as? Int == 70_000)
        #expect(recent[4]["bytes"] as? Int == 1468)
        for entry in recent {
            #expect(entry["duration_ms"] is Double || entry["duration_ms"] is Int)
            #expect(entry["retransmits"] as? Int == 0)
            #expect(entry["ended_at"] is Int)
        }
        let refusals = try #require(json["refusals"] as? [[String: Any]])
        #expect(refusals.count == 1)
        #expect(refusals.first?["reason"] as? String == "write-request")
        #expect(refusals.first?["at"] is Int)
    }

    /// The page in headless Chromium while a transfer runs: each transfer where it belongs in
    /// the DOM, and a screenshot beside the test binary (`status-page.png`).
    @Test(.requires("chromium")) func chromiumShowsTheBoot() throws {
        let running = try runTransfers()
        _ = running
        let profile = try tree.downloads()
        let url = "http://127.0.0.1:\(statusPort)/"
        let chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)"]
        let dom = try ExternalTool.run(chromium + ["--virtual-time-budget=3000", "--dump-dom", url], seconds: 120)
        #expect(dom.status == 0, "\(dom.output)")
        let page = dom.output
        // In progress: the running transfer with its progress.
        let start = try #require(page.range(of: "<table id=\"active\">"))
        let end = try #require(page.range(of: "</table>", range: start.upperBound..<page.endIndex))
        #expect(page[start.upperBound..<end.lowerBound].contains("size-100003.bin"))
        #expect(page.contains("In progress (1)"))
        // Failures and refusals by reason.
        #expect(page.contains("refused: write-request"))
        #expect(page.contains("missing.bin from 127.0.0.1:") || page.contains("../outside/secret from 127.0.0.1:"))
        // The boot as a sequence for the client address: probe, fetch, the missing and refused names.
        #expect(page.contains("<div class=\"client\">127.0.0.1</div>"))
        for text in [
            "size-probe", "sub/deeper/kernel", "refused: 1 not found", "refused: 2 invalid name", "size-1468.bin",
        ] {
            #expect(page.contains(DirectoryListing.escape(text)), "\(text) not on the page")
        }
        // The script fetched the fragment, swapped it in and said so.
        #expect(page.contains("live: updated every second"))
        let screenshot = TFTPDProcess.binaryDirectory.appendingPathComponent("status-page.png").path
        let shot = try ExternalTool.run(
            chromium + ["--window-size=1280,1100", "--screenshot=\(screenshot)", url], seconds: 120)
        #expect(shot.status == 0, "\(shot.output)")
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: screenshot))) ?? Data()
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "no PNG at \(screenshot)")
    }

    /// Bounded: after 1,000 finished transfers the page keeps the last 500, and the totals
    /// count them all.
    @Test func finishedTransfersAreBounded() throws {
        for _ in 0..<1000 {
            #expect(try UDPPeer().fetch(Self.name("size-1.bin"), port: server.port).error == nil)
        }
        try server.waitForLog(containing: "outcome=completed", count: 1000)
        let json = try api()
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["finished"] as? Int == 1000)
        #expect((json["recent"] as? [Any])?.count == TransferBoard.recentLimit)
        let page = try #require(try get("/"))
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.body.count < 400_000)
    }

    /// Only GET and HEAD, only its paths.
    @Test func otherPathsAndMethods() throws {
        #expect(try get("/etc/passwd")?.status == 404)
        let connection = try RawHTTP(port: statusPort)
        connection.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        #expect(connection.response()?.status == 405)
        #expect(try get("/fragment")?.status == 200)
    }
}
