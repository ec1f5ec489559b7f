import Foundation
import Testing

@testable import TFTPCore

/// Trees laid out for tftp-hpa, dnsmasq and atftpd served by the real binary with the flags
/// docs/migrating.md gives for them: tftp-hpa's remap file, case-insensitive names,
/// per-client directories, over TFTP and HTTP alike, and the hostile names still refused.
@Suite(.serialized) struct MigrationTests {
    private func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func http(_ server: TFTPDProcess, _ target: String) throws -> RawHTTP.Response? {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n")
        return connection.response()
    }

    /// A Windows-style remap file: backslashes, any case, and a refusal rule.
    @Test func remapFileOverTFTPAndHTTP() throws {
        let tree = try ServedTree()
        try FileManager.default.createDirectory(atPath: tree.root + "/Boot", withIntermediateDirectories: true)
        try tree.write("Boot/BCD", Array("bcd store".utf8))
        try tree.write("keys.pvt", Array("private".utf8))
        let rules = tree.base + "/tftpd.remap"
        try #"""
        # Windows clients ask \Boot\BCD in any case
        rg  \\          /
        r   ^/
        ri  ^boot/bcd$  Boot/BCD
        a   \.pvt$
        r   ^escape$    ../outside/secret
        """#.write(toFile: rules, atomically: true, encoding: .utf8)
        let server = try TFTPDProcess(root: tree.root, http: true, arguments: ["--map-file", rules])
        let windows = try UDPPeer().fetch(name(#"\boot\bcd"#), port: server.port)
        #expect(windows.error == nil)
        #expect(windows.bytes == Array("bcd store".utf8))
        let refused = try UDPPeer().fetch(name("keys.pvt"), port: server.port)
        #expect(refused.error?.0 == .accessViolation)
        // A rule that leads out of the root: the sanitizer refuses its result.
        let escape = try UDPPeer().fetch(name("escape"), port: server.port)
        #expect(escape.error != nil && escape.bytes.isEmpty)
        #expect(try http(server, "/BOOT/BCD")?.body == Array("bcd store".utf8))
        #expect(try http(server, "/keys.pvt")?.status == 403)
        #expect(try http(server, "/escape")?.status == 400)
        #expect(server.logText.contains("remap file"))
    }

    @Test func badRemapFileNamesTheLine() throws {
        let tree = try ServedTree()
        let rules = tree.base + "/bad.remap"
        try "r ^a b\nrz ^c d\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let result = try ExternalTool.run(
            [TFTPDProcess.binary("tftpd"), "--root", tree.root, "--map-file", rules, "--check"])
        #expect(result.status == 64)
        #expect(result.output.contains("line 2: unknown flag \"z\""))
    }

    @Test func caseInsensitiveAndPerClientDirectories() throws {
        let tree = try ServedTree()
        try FileManager.default.createDirectory(
            atPath: tree.root + "/127.0.0.1/pxelinux.cfg", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tree.root + "/pxelinux.cfg", withIntermediateDirectories: true)
        try tree.write("127.0.0.1/pxelinux.cfg/default", Array("this client".utf8))
        try tree.write("pxelinux.cfg/default", Array("everyone".utf8))
        try FileManager.default.createDirectory(atPath: tree.root + "/Images", withIntermediateDirectories: true)
        try tree.write("Images/Vmlinuz", Array("kernel".utf8))
        let server = try TFTPDProcess(
            root: tree.root, http: true, arguments: ["--case-insensitive", "--per-client-dir", "ip"])
        #expect(try UDPPeer().fetch(name("pxelinux.cfg/default"), port: server.port).bytes == Array("this client".utf8))
        #expect(try UDPPeer().fetch(name("IMAGES/vmlinuz"), port: server.port).bytes == Array("kernel".utf8))
        #expect(try UDPPeer().fetch(name("SIZE-1.BIN"), port: server.port).bytes == tree.contents("size-1.bin"))
        #expect(try http(server, "/images/VMLINUZ")?.body == Array("kernel".utf8))
        #expect(try http(server, "/PXELINUX.CFG/DEFAULT")?.body == Array("this client".utf8))
        // Folding case never leads out of the root.
        for hostile in ["ESCAPE", "Escape/x", "../OUTSIDE/secret", "Zero"] {
            let fetched = try UDPPeer().fetch(name(hostile), port: server.port)
            #expect(fetched.error != nil && fetched.bytes.isEmpty, "\(hostile)")
        }
    }

    /// Three configurations as docs/migrating.md translates them, each serving a boot file.
    @Test(arguments: [
        // tftp-hpa, Debian's /etc/default/tftpd-hpa: TFTP_OPTIONS="--secure --map-file ..."
        ("tftp-hpa", ["--map-file", "{rules}"]),
        // dnsmasq: enable-tftp, tftp-root, tftp-lowercase, tftp-unique-root=ip, tftp-max=50,
        // tftp-port-range=50000,50999
        (
            "dnsmasq",
            ["--case-insensitive", "--per-client-dir", "ip", "--max-transfers", "50", "--port-range", "50000:50999"]
        ),
        // atftpd: --daemon --maxthread 100 --retry-timeout 5 --no-multicast /srv/tftp
        ("atftpd", ["--max-transfers", "100", "--timeout", "5000"]),
    ])
    func migratedConfigurationServes(_ server: String, _ flags: [String]) throws {
        let tree = try ServedTree()
        try FileManager.default.createDirectory(atPath: tree.root + "/pxelinux.cfg", withIntermediateDirectories: true)
        try tree.write("pxelinux.cfg/default", Array("DEFAULT linux".utf8))
        let rules = tree.base + "/tftpd.remap"
        try "r ^/?tftpboot/\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let arguments = flags.map { $0 == "{rules}" ? rules : $0 }
        let process = try TFTPDProcess(root: tree.root, arguments: arguments)
        let requested =
            server == "tftp-hpa"
            ? "/tftpboot/pxelinux.cfg/default" : server == "dnsmasq" ? "PXELINUX.CFG/default" : "pxelinux.cfg/default"
        let fetched = try UDPPeer().fetch(name(requested), port: process.port)
        #expect(fetched.error == nil, "\(server)")
        #expect(fetched.bytes == Array("DEFAULT linux".utf8), "\(server)")
    }
}
