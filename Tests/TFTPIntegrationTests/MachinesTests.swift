import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// `--machines` on the real binary: the script rendered per machine over HTTP and TFTP,
/// `/api/explain`, the timeline in `/api/transfers`, a file changed under the server (a
/// broken one keeps the profiles in use, and says where), and a broken file at start
/// (docs/machines.md).
@Suite struct MachinesTests {
    static let file = """
        defaults:
          ipxe: |
            #!ipxe
            echo default for {{ mac }} at {{ ip }}
        machines:
          - name: node7
            match: {mac: "52:54:00:00:02:07"}
            ipxe: |
              #!ipxe
              kernel vmlinuz role={{ role }} ${net0/ip}
            vars: {role: rescue}
          - name: local
            match: {ip: 127.0.0.0/8, hostname: "none*"}
            ipxe: "#!ipxe\\n"
        """

    private func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func scriptsPerMachineOverHTTPAndTFTP() throws {
        let tree = try ServedTree()
        let machines = tree.base + "/machines.yaml"
        try write(Self.file, to: machines)
        let server = try TFTPDProcess(
            root: tree.root, http: true, arguments: ["--machines", machines, "--status", "127.0.0.1:0"])
        let status = try server.port(fromLogLineContaining: "serving status page")
        #expect(try server.waitForLog(containing: "config: loaded").contains("profiles=2"))

        // Nothing known of 127.0.0.1 yet: the defaults, over HTTP and over TFTP.
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /boot.ipxe HTTP/1.1\r\nHost: t\r\n\r\n")
        let unknown = try #require(connection.response())
        #expect(unknown.status == 200)
        #expect(unknown.header("Cache-Control") == "no-store")
        #expect(String(decoding: unknown.body, as: UTF8.self) == "#!ipxe\necho default for  at 127.0.0.1\n")
        let peer = try UDPPeer()
        let fetched = peer.fetch(Array("boot.ipxe".utf8), port: server.port)
        #expect(fetched.error == nil)
        #expect(String(decoding: fetched.bytes, as: UTF8.self) == "#!ipxe\necho default for  at 127.0.0.1\n")

        // The machine names itself (iPXE's ?mac=): its profile's script.
        connection.send("GET /boot.ipxe?mac=52:54:00:00:02:07 HTTP/1.1\r\nHost: t\r\n\r\n")
        let node7 = try #require(connection.response())
        #expect(String(decoding: node7.body, as: UTF8.self) == "#!ipxe\nkernel vmlinuz role=rescue ${net0/ip}\n")
        // Its address is now known as that machine's, over TFTP too.
        let again = try UDPPeer().fetch(Array("boot.ipxe".utf8), port: server.port)
        #expect(String(decoding: again.bytes, as: UTF8.self) == "#!ipxe\nkernel vmlinuz role=rescue ${net0/ip}\n")

        // Why node7, and the timeline of the address that asked.
        let explain = try RawHTTP(port: status)
        explain.send("GET /api/explain?mac=52:54:00:00:02:07&ip=127.0.0.1 HTTP/1.1\r\nHost: t\r\n\r\n")
        let why = String(decoding: try #require(explain.response()).body, as: UTF8.self)
        #expect(why.contains("\"profile\":\"node7\""))
        #expect(why.contains("mac 52:54:00:00:02:07 is listed"))
        #expect(why.contains("hostname unknown matches none of none*"))
        explain.send("GET /api/transfers HTTP/1.1\r\nHost: t\r\n\r\n")
        let transfers = String(decoding: try #require(explain.response()).body, as: UTF8.self)
        #expect(transfers.contains("\"mac\":\"52:54:00:00:02:07\""))
        #expect(transfers.contains("\"subject\":\"GET /boot.ipxe?mac=52:54:00:00:02:07\""))
    }

    @Test func aChangedFileServesAndABrokenOneIsRefusedWithItsLine() throws {
        let tree = try ServedTree()
        let machines = tree.base + "/machines.yaml"
        try write(Self.file, to: machines)
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--machines", machines])
        try write(Self.file.replacingOccurrences(of: "role: rescue", with: "role: rebuilt"), to: machines)
        #expect(try server.waitForLog(containing: "config: reloaded").contains("file=machines"))
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET /boot.ipxe?mac=52:54:00:00:02:07 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(String(decoding: try #require(connection.response()).body, as: UTF8.self).contains("role=rebuilt"))
        try write(Self.file.replacingOccurrences(of: "match: {mac", with: "macth: {mac"), to: machines)
        let line = try server.waitForLog(containing: "config: kept the version in use")
        #expect(line.contains("file=machines"))
        #expect(line.contains("machines.yaml:7: a machine: unknown key 'macth'"))
        connection.send("GET /boot.ipxe?mac=52:54:00:00:02:07 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(String(decoding: try #require(connection.response()).body, as: UTF8.self).contains("role=rebuilt"))
    }

    @Test func aBrokenFileStopsTheStartWithItsLine() throws {
        let tree = try ServedTree()
        let machines = tree.base + "/machines.yaml"
        try write("machines:\n  - name: a\n    match: {arch: amiga}\n", to: machines)
        let result = try ExternalTool.run(
            [TFTPDProcess.binary("tftpd"), "--root", tree.root, "--listen", "127.0.0.1:0", "--machines", machines]
                + TFTPDProcess.privilegeArguments([]), seconds: 20)
        #expect(result.status == 64)
        #expect(result.output.contains("--machines \(machines):3: match: arch amiga is none of"))
    }
}
