import Foundation
import Testing

/// A file of more than 65535 blocks through real clients: the block number wraps to 0
/// (docs/protocol.md, "Block numbers") and the bytes still match.
@Suite struct RolloverTests {
    @Test(.requires("curl", "atftp")) func curlAndAtftpAcrossTheWrap() throws {
        let tree = try ServedTree(rolloverFile: true)
        let server = try TFTPDProcess(root: tree.root)
        let expected = tree.contents("rollover.bin")
        let curlOut = try tree.downloads() + "/f"
        let curl = try ExternalTool.run(
            ["curl", "-sS", "--tftp-blksize", "512", "-o", curlOut, "tftp://127.0.0.1:\(server.port)/rollover.bin"],
            seconds: 120
        )
        #expect(curl.status == 0, "\(curl.output)")
        #expect(expected == Array((try? Data(contentsOf: URL(fileURLWithPath: curlOut))) ?? Data()))
        let atftpOut = try tree.downloads() + "/f"
        let atftp = try ExternalTool.run(
            [
                "atftp", "--option", "windowsize 16", "-g", "-r", "rollover.bin", "-l", atftpOut, "127.0.0.1",
                String(server.port),
            ],
            seconds: 120
        )
        #expect(atftp.status == 0, "\(atftp.output)")
        #expect(expected == Array((try? Data(contentsOf: URL(fileURLWithPath: atftpOut))) ?? Data()))
    }

    /// Our client across the wrap, windowed from our server and lockstep from tftp-hpa
    /// (which wraps to 0 as well).
    @Test(.requiresPeerServers(.tftpHPA)) func ourClientAcrossTheWrap() throws {
        let tree = try ServedTree(rolloverFile: true)
        let expected = tree.contents("rollover.bin")
        let server = try TFTPDProcess(root: tree.root)
        let peer = try PeerServer(.tftpHPA, root: tree.root)
        for (port, options) in [(server.port, ["--windowsize", "16"]), (peer.port, [])] {
            let out = try tree.downloads() + "/f"
            let result = try ExternalTool.run(
                [GetCommandTests.tftp, "get", "127.0.0.1:\(port)", "rollover.bin", "-o", out, "--tsize"] + options,
                seconds: 120
            )
            #expect(result.status == 0, "\(result.output)")
            #expect(expected == GetCommandTests.contents(out))
        }
    }
}
