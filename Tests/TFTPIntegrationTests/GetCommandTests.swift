import Foundation
import NIOCore
import Testing

@testable import TFTPCore

/// The bundled client, `tftp get`, as users run it: against our `tftpd`, against fake
/// servers that misbehave on purpose, and (in ``GetAgainstPeerServersTests``) against
/// tftp-hpa and atftpd. Bytes are compared with the served files; exit codes with the
/// documented table.
@Suite(.serialized) struct GetCommandTests {
    let tree: ServedTree
    let server: TFTPDProcess

    init() throws {
        tree = try ServedTree()
        server = try TFTPDProcess(root: tree.root)
    }

    static let tftp = TFTPDProcess.binary("tftp")

    private func get(_ arguments: [String], port: Int? = nil, directory: String? = nil) throws -> ExternalTool.Result {
        try ExternalTool.run(
            [Self.tftp, "get", "127.0.0.1:\(port ?? server.port)"] + arguments, seconds: 60, directory: directory)
    }

    static let optionSets: [[String]] = [
        [],
        ["--blksize", "1468"],
        ["--blksize", "1468", "--windowsize", "4", "--tsize"],
        ["--blksize", "8", "--windowsize", "16", "--timeout", "2"],
        ["--blksize", "65464", "--windowsize", "2"],
    ]

    @Test(arguments: ServedTree.sizes, optionSets)
    func sizesAndOptions(_ size: Int, _ options: [String]) throws {
        let out = try tree.downloads() + "/f"
        let result = try get(["size-\(size).bin", "-o", out] + options)
        #expect(result.status == 0, "\(result.output)")
        #expect(tree.contents("size-\(size).bin") == Self.contents(out))
    }

    /// Without -o the file lands under its base name in the working directory.
    @Test func defaultOutputIsTheBaseName() throws {
        let dir = try tree.downloads()
        let result = try get(["/sub/deeper/kernel", "--verbose"], directory: dir)
        #expect(result.status == 0, "\(result.output)")
        #expect(Self.contents(dir + "/kernel") == tree.contents("sub/deeper/kernel"))
        #expect(result.output.contains("received 70000 bytes"))
        #expect(result.output.contains("blksize=512 windowsize=1 retransmits=0"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["kernel"])
    }

    /// A target that is not a regular file is written to, never replaced: as root, a
    /// rename over /dev/null would replace the device with a file.
    @Test func deviceTargetIsWrittenNotReplaced() throws {
        let result = try get(["size-100003.bin", "-o", "/dev/null"])
        #expect(result.status == 0, "\(result.output)")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/dev").allSatisfy { !$0.contains(".tftp-") })
    }

    /// An existing directory as target receives the file under its base name.
    @Test func directoryTargetGetsTheBaseName() throws {
        let dir = try tree.downloads()
        let result = try get(["sub/deeper/kernel", "-o", dir])
        #expect(result.status == 0, "\(result.output)")
        #expect(Self.contents(dir + "/kernel") == tree.contents("sub/deeper/kernel"))
    }

    @Test func standardOutput() throws {
        let result = try get(["text.txt", "-o", "-", "--quiet"])
        #expect(result.status == 0)
        #expect(Array(result.output.utf8) == tree.contents("text.txt"))
    }

    /// netascii: the server encodes LF as CR LF and a lone CR as CR NUL; the client
    /// decodes, so the bytes come back as they are on disk.
    @Test(arguments: [[], ["--blksize", "8"]])
    func netasciiRoundTrip(_ options: [String]) throws {
        let out = try tree.downloads() + "/t"
        let result = try get(["text.txt", "-o", out, "--mode", "netascii"] + options)
        #expect(result.status == 0, "\(result.output)")
        #expect(Self.contents(out) == tree.contents("text.txt"))
    }

    /// Each refusal has its exit code and a plain message, and leaves no file behind —
    /// not even over an existing one.
    @Test(arguments: [
        ("missing.bin", Int32(2), "server refused: file not found (TFTP error 1"),
        ("private.bin", 3, "server refused: access violation (TFTP error 2"),
        ("escape", 2, "file not found"),
        ("../outside/secret", 3, "access violation"),
    ])
    func refusals(_ name: String, _ status: Int32, _ message: String) throws {
        let dir = try tree.downloads()
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/out"))
        let result = try get([name, "-o", dir + "/out"])
        #expect(result.status == status, "\(result.output)")
        #expect(result.output.contains(message), "\(result.output)")
        #expect(Self.contents(dir + "/out") == Array("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out"])
    }

    @Test func noServerTimesOut() throws {
        let silent = try UDPPeer()
        let port = try silent.bindLoopback()
        let dir = try tree.downloads()
        let result = try get(["x", "-o", dir + "/x", "--timeout", "1", "--retries", "1"], port: port)
        #expect(result.status == 4, "\(result.output)")
        #expect(result.output.contains("no answer from 127.0.0.1:\(port) after 2 tries"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func unusableOutputIsALocalError() throws {
        let result = try get(["size-1.bin", "-o", "/nonexistent-dir/x"])
        #expect(result.status == 6, "\(result.output)")
        #expect(result.output.contains("cannot create a file in /nonexistent-dir/"))
    }

    @Test func badArgumentsAreUsageErrors() throws {
        #expect(try get(["size-1.bin", "--blksize", "7"]).status == 64)
        #expect(try get(["size-1.bin", "--windowsize", "0"]).status == 64)
        let help = try ExternalTool.run([Self.tftp, "get", "--help"])
        #expect(help.output.contains("2    file not found (TFTP error 1)"))
    }

    /// An OACK with an option we never asked for: ERROR 8 to the server, exit 5, no file.
    @Test func unrequestedOptionIsRefused() throws {
        let fake = try UDPPeer()
        let port = try fake.bindLoopback()
        let dir = try tree.downloads()
        let client = try ExternalTool.start([Self.tftp, "get", "127.0.0.1:\(port)", "f", "-o", dir + "/f"])
        guard let (request, clientPort) = fake.receive(), case .success(.readRequest(let rrq)) = request else {
            Issue.record("no RRQ")
            return
        }
        #expect(rrq.options.isEmpty)
        fake.send(.optionAcknowledgement([TransferOption(name: "windowsize", value: "8")]), port: clientPort)
        guard case .success(.error(let code, _))? = fake.receive()?.packet else {
            Issue.record("no ERROR 8")
            return
        }
        #expect(code == .optionRefused)
        let result = client.wait()
        #expect(result.status == 5, "\(result.output)")
        #expect(result.output.contains("windowsize was not requested"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// A blksize larger than asked is refused the same way.
    @Test func largerBlksizeThanAskedIsRefused() throws {
        let fake = try UDPPeer()
        let port = try fake.bindLoopback()
        let client = try ExternalTool.start([
            Self.tftp, "get", "127.0.0.1:\(port)", "f", "-o", "-", "--blksize", "1024",
        ])
        guard let (_, clientPort) = fake.receive() else {
            Issue.record("no RRQ")
            return
        }
        fake.send(.optionAcknowledgement([TransferOption(name: "blksize", value: "2048")]), port: clientPort)
        guard case .success(.error(.optionRefused, _))? = fake.receive()?.packet else {
            Issue.record("no ERROR 8")
            return
        }
        #expect(client.wait().status == 5)
    }

    /// A server that ignores options answers with DATA 1 of 512 bytes: the client falls
    /// back to 512-byte lockstep. A stranger's DATA in the middle gets ERROR 5 and
    /// changes nothing.
    @Test func ignoredOptionsAndAStranger() throws {
        let fake = try UDPPeer()
        let port = try fake.bindLoopback()
        let transfer = try UDPPeer()  // the fake server's transfer ID
        let stranger = try UDPPeer()
        let client = try ExternalTool.start([
            Self.tftp, "get", "127.0.0.1:\(port)", "f", "-o", "-", "--blksize", "1468", "--windowsize", "8",
            "--verbose",
        ])
        guard let (request, clientPort) = fake.receive(), case .success(.readRequest(let rrq)) = request else {
            Issue.record("no RRQ")
            return
        }
        #expect(rrq.options.map(\.key) == ["blksize", "windowsize"])
        let first = [UInt8](repeating: UInt8(ascii: "a"), count: 512)
        transfer.send(.data(block: 1, payload: ByteBuffer(bytes: first)), port: clientPort)
        guard case .success(.ack(1))? = transfer.receive()?.packet else {
            Issue.record("no ACK 1")
            return
        }
        stranger.send(.data(block: 2, payload: ByteBuffer(bytes: Array("evil".utf8))), port: clientPort)
        guard case .success(.error(.unknownTransferID, _))? = stranger.receive()?.packet else {
            Issue.record("no ERROR 5 to the stranger")
            return
        }
        transfer.send(.data(block: 2, payload: ByteBuffer(bytes: Array("end".utf8))), port: clientPort)
        guard case .success(.ack(2))? = transfer.receive()?.packet else {
            Issue.record("no ACK 2")
            return
        }
        let result = client.wait()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix(String(repeating: "a", count: 512) + "end"))
        #expect(result.output.contains("options ignored by the server"))
    }

    /// Ctrl-C in the middle: the server gets an ERROR, the partial file is removed, the
    /// exit status is 130.
    @Test func interruptTellsTheServerAndRemovesThePartialFile() throws {
        let fake = try UDPPeer()
        let port = try fake.bindLoopback()
        let dir = try tree.downloads()
        let client = try ExternalTool.start([Self.tftp, "get", "127.0.0.1:\(port)", "f", "-o", dir + "/f"])
        guard let (_, clientPort) = fake.receive() else {
            Issue.record("no RRQ")
            return
        }
        fake.send(.data(block: 1, payload: ByteBuffer(bytes: [UInt8](repeating: 1, count: 512))), port: clientPort)
        guard case .success(.ack(1))? = fake.receive()?.packet else {
            Issue.record("no ACK 1")
            return
        }
        client.interrupt()
        var told = false
        while let (packet, _) = fake.receive() {
            if case .success(.error) = packet {
                told = true
                break
            }
        }
        #expect(told)
        let result = client.wait()
        #expect(result.status == 130, "\(result.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    static func contents(_ path: String) -> [UInt8] {
        (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
    }
}

/// `tftp get` against tftp-hpa's and atftpd's servers, as shipped by Debian.
@Suite(.serialized) struct GetAgainstPeerServersTests {
    let tree: ServedTree

    init() throws {
        tree = try ServedTree()
    }

    static let optionSets: [[String]] = [
        [],
        ["--blksize", "1468", "--tsize"],
        ["--blksize", "1468", "--windowsize", "8"],
    ]

    @Test(arguments: PeerServer.Kind.allCases, optionSets)
    func sizesAndOptions(_ kind: PeerServer.Kind, _ options: [String]) throws {
        let peer = try PeerServer(kind, root: tree.root)
        for size in ServedTree.sizes {
            let out = try tree.downloads() + "/f"
            let result = try ExternalTool.run(
                [GetCommandTests.tftp, "get", "127.0.0.1:\(peer.port)", "size-\(size).bin", "-o", out] + options)
            #expect(result.status == 0, "\(kind) size \(size): \(result.output)")
            #expect(tree.contents("size-\(size).bin") == GetCommandTests.contents(out), "\(kind) size \(size)")
        }
    }

    @Test(arguments: PeerServer.Kind.allCases)
    func missingFile(_ kind: PeerServer.Kind) throws {
        let peer = try PeerServer(kind, root: tree.root)
        let result = try ExternalTool.run([
            GetCommandTests.tftp, "get", "127.0.0.1:\(peer.port)", "missing.bin", "-o", try tree.downloads() + "/m",
        ])
        #expect(result.status == 2, "\(result.output)")
    }

    @Test(arguments: PeerServer.Kind.allCases)
    func netascii(_ kind: PeerServer.Kind) throws {
        let peer = try PeerServer(kind, root: tree.root)
        let out = try tree.downloads() + "/t"
        let result = try ExternalTool.run([
            GetCommandTests.tftp, "get", "127.0.0.1:\(peer.port)", "text.txt", "-o", out, "--mode", "netascii",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(GetCommandTests.contents(out) == tree.contents("text.txt"))
    }
}
