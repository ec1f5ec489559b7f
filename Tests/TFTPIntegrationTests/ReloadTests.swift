import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// The files tftpd reads after start, changed under the real binary the ways they are
/// changed in production (docs/operations.md, "Reloading"): a machines file mounted from a
/// Kubernetes ConfigMap (its `..data` link swapped), a map file rewritten, SIGHUP; each
/// reload logged, counted, and its version on the status API with the hash `sha256sum`
/// prints.
@Suite struct ReloadTests {
    /// `conf/machines.yaml` → `..data/machines.yaml`, `..data` → `..vN`, as the kubelet
    /// lays out a ConfigMap volume; ``update(_:)`` swaps `..data` atomically.
    final class ConfigMapVolume: @unchecked Sendable {
        let directory: String
        private var version = 0

        init(base: String, _ text: String) throws {
            directory = base + "/conf"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try update(text)
            symlink("..data/machines.yaml", directory + "/machines.yaml")
        }

        var path: String { directory + "/machines.yaml" }

        func update(_ text: String) throws {
            version += 1
            let folder = directory + "/..v\(version)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + "/machines.yaml", atomically: false, encoding: .utf8)
            symlink("..v\(version)", directory + "/..data_tmp")
            rename(directory + "/..data_tmp", directory + "/..data")
        }
    }

    static func profiles(role: String) -> String {
        """
        defaults:
          ipxe: |
            #!ipxe
            echo role={{ role }}
          vars: {role: \(role)}
        """
    }

    private func script(_ server: TFTPDProcess) throws -> String {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /boot.ipxe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return String(decoding: try #require(connection.response()).body, as: UTF8.self)
    }

    private func sha256(_ path: String) throws -> String {
        let result = try ExternalTool.run(["sha256sum", path])
        return String(result.output.prefix(64))
    }

    /// The ConfigMap swapped twice: each version serves once the watcher has read it (within
    /// two seconds: it looks every second), the log and the metric say so, and the status
    /// API shows the version in use with its hash. SIGHUP reads it again at once.
    @Test func aConfigMapUpdateOfTheMachinesFileIsServed() throws {
        let tree = try ServedTree()
        let volume = try ConfigMapVolume(base: tree.base, Self.profiles(role: "one"))
        let server = try TFTPDProcess(
            root: tree.root, http: true,
            arguments: ["--machines", volume.path, "--status", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
        let status = try server.port(fromLogLineContaining: "serving status page")
        let metrics = try server.port(fromLogLineContaining: "serving metrics")
        #expect(try script(server) == "#!ipxe\necho role=one\n")

        try volume.update(Self.profiles(role: "two"))
        let reloaded = try server.waitForLog(containing: "config: reloaded")
        #expect(reloaded.contains("file=machines") && reloaded.contains("because=the file changed"))
        #expect(try script(server) == "#!ipxe\necho role=two\n")

        // A version that does not read: the one in use stays, and the status API says why.
        try volume.update("defaults: {vars: [}\n")
        let kept = try server.waitForLog(containing: "config: kept the version in use")
        #expect(kept.contains("file=machines") && kept.contains("machines.yaml:1"))
        #expect(try script(server) == "#!ipxe\necho role=two\n")

        try volume.update(Self.profiles(role: "three"))
        _ = try server.waitForLog(containing: "config: reloaded", count: 2)
        server.signal(SIGHUP)
        #expect(try server.waitForLog(containing: "config: reloaded", count: 3).contains("because=SIGHUP"))
        #expect(try script(server) == "#!ipxe\necho role=three\n")

        let api = try RawHTTP(port: status)
        api.send("GET /api/transfers HTTP/1.1\r\nHost: t\r\n\r\n")
        let json = String(decoding: try #require(api.response()).body, as: UTF8.self)
        #expect(json.contains("\"file\":\"machines\""))
        #expect(json.contains("\"sha256\":\"\(try sha256(volume.path))\""))
        #expect(json.contains("\"last_failure\":null"))
        let scrape = try RawHTTP(port: metrics)
        scrape.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        let text = String(decoding: try #require(scrape.response()).body, as: UTF8.self)
        #expect(text.contains(#"tftpd_config_reloads_total{file="machines",result="ok"} 3"#))
        #expect(text.contains(#"tftpd_config_reloads_total{file="machines",result="failed"} 1"#))
    }

    /// The map file rewritten: names are rewritten by the new rules from the next request
    /// on, over TFTP and over HTTP (whose memory of rewritten targets is dropped).
    @Test func aRewrittenMapFileRewritesTheNextRequest() throws {
        let tree = try ServedTree()
        let rules = tree.base + "/tftpd.remap"
        try "r ^alias$ size-1.bin\n".write(toFile: rules, atomically: false, encoding: .utf8)
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--map-file", rules])
        #expect(UDPPeer.fetchOrFail("alias", port: server.port) == tree.contents("size-1.bin"))
        let before = try RawHTTP(port: server.httpPort)
        before.send("GET /alias HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(try #require(before.response()).body == tree.contents("size-1.bin"))

        try "r ^alias$ size-511.bin\n".write(toFile: rules, atomically: false, encoding: .utf8)
        #expect(try server.waitForLog(containing: "config: reloaded").contains("file=map-file"))
        #expect(UDPPeer.fetchOrFail("alias", port: server.port) == tree.contents("size-511.bin"))
        let after = try RawHTTP(port: server.httpPort)
        after.send("GET /alias HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(try #require(after.response()).body == tree.contents("size-511.bin"))
    }
}
