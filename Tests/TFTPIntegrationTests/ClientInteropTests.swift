import Foundation
import Testing

/// The real `tftpd` binary against the real clients users have: curl, tftp-hpa, atftp
/// and busybox. Bytes are compared with the served files.
@Suite(.serialized) struct ClientInteropTests {
    let tree: ServedTree
    let server: TFTPDProcess

    init() throws {
        tree = try ServedTree()
        server = try TFTPDProcess(root: tree.root)
    }

    private var url: String { "tftp://127.0.0.1:\(server.port)" }

    @Test(.requires("curl"), arguments: ServedTree.sizes.filter { $0 > 0 })
    func curlDefaultBlockSize(_ size: Int) throws {
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run(["curl", "-sS", "-o", out, "\(url)/size-\(size).bin"])
        #expect(result.status == 0, "\(result.output)")
        #expect(
            tree.contents("size-\(size).bin") == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()))
    }

    @Test(.requires("curl"), arguments: ServedTree.sizes.filter { $0 > 0 })
    func curlBlksize1468(_ size: Int) throws {
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run([
            "curl", "-sS", "--tftp-blksize", "1468", "-o", out, "\(url)/size-\(size).bin",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(
            tree.contents("size-\(size).bin") == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()))
    }

    /// curl rejects the correct `tsize 0` of an empty file, so the empty file
    /// is fetched without options (one empty DATA 1).
    @Test(.requires("curl")) func curlEmptyFileWithoutOptions() throws {
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run(["curl", "-sS", "--tftp-no-options", "-o", out, "\(url)/size-0.bin"])
        #expect(result.status == 0, "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: out))
        #expect(((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data([1])).isEmpty)
    }

    @Test(.requires("curl")) func curlSubdirectoryWithLeadingSlashes() throws {
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run(["curl", "-sS", "-o", out, "\(url)//sub/deeper/kernel"])
        #expect(result.status == 0, "\(result.output)")
        #expect(
            tree.contents("sub/deeper/kernel") == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()))
    }

    @Test(.requires("curl")) func curlMissingFileIsAnError() throws {
        let result = try ExternalTool.run(["curl", "-sS", "-o", "/dev/null", "\(url)/missing.bin"])
        #expect(result.status == 68)  // curl: "file not found on TFTP server"
    }

    @Test(.requires("tftp"), arguments: ServedTree.sizes)
    func tftpHPAOctet(_ size: Int) throws {
        let dir = try tree.downloads()
        let result = try ExternalTool.run(
            ["tftp", "-m", "octet", "127.0.0.1", String(server.port), "-c", "get", "size-\(size).bin", "f"],
            directory: dir
        )
        #expect(!result.output.contains("Error"), "\(result.output)")
        #expect(
            tree.contents("size-\(size).bin")
                == Array((try? Data(contentsOf: URL(fileURLWithPath: dir + "/f"))) ?? Data([0])))
    }

    /// netascii is encoded by the server and decoded by tftp-hpa back to the same bytes.
    @Test(.requires("tftp")) func tftpHPANetascii() throws {
        let dir = try tree.downloads()
        let result = try ExternalTool.run(
            ["tftp", "-m", "netascii", "127.0.0.1", String(server.port), "-c", "get", "text.txt", "f"],
            directory: dir
        )
        #expect(!result.output.contains("Error"), "\(result.output)")
        #expect(tree.contents("text.txt") == Array((try? Data(contentsOf: URL(fileURLWithPath: dir + "/f"))) ?? Data()))
    }

    static let atftpOptions: [[String]] = [
        [],
        ["--option", "blksize 1468"],
        ["--option", "blksize 1468", "--option", "windowsize 8"],
        ["--option", "blksize 8192", "--option", "windowsize 4", "--option", "tsize 0"],
        ["--option", "blksize 512", "--option", "windowsize 16", "--option", "timeout 2"],
    ]

    @Test(.requires("atftp"), arguments: atftpOptions)
    func atftpWithOptions(_ options: [String]) throws {
        for name in ["size-100003.bin", "size-1468.bin", "size-0.bin", "sub/deeper/kernel"] {
            let out = try tree.downloads() + "/f"
            let result = try ExternalTool.run(
                ["atftp"] + options + ["-g", "-r", name, "-l", out, "127.0.0.1", String(server.port)])
            #expect(result.status == 0, "\(name) \(options): \(result.output)")
            #expect(
                tree.contents(name) == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data([0])),
                "\(name) \(options)")
        }
    }

    @Test(.requires("busybox"), arguments: ["512", "1468", "8192"])
    func busyboxBlockSizes(_ blockSize: String) throws {
        for name in ["size-100003.bin", "size-513.bin", "size-1.bin"] {
            let out = try tree.downloads() + "/f"
            let result = try ExternalTool.run([
                "busybox", "tftp", "-g", "-b", blockSize, "-r", name, "-l", out, "127.0.0.1", String(server.port),
            ])
            #expect(result.status == 0, "\(name): \(result.output)")
            #expect(
                tree.contents(name) == Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data([0])), "\(name)"
            )
        }
    }

    /// Refusals reach real clients as errors and nothing of the secret is written.
    @Test(.requires("curl"), arguments: ["escape", "zero", "fifo", "sub", "private.bin", "../outside/secret"])
    func curlRefusals(_ name: String) throws {
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run(["curl", "-sS", "-o", out, "\(url)/\(name)"])
        #expect(result.status != 0)
        let got = (try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()
        #expect(!String(decoding: got, as: UTF8.self).contains("outside the root"))
    }
}
