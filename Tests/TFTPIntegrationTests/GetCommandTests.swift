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
        // tsize is asked by default, so the server answers with an OACK.
        #expect(result.output.contains("granted blksize=512 windowsize=1 tsize=70000"))
        #expect(result.output.contains("asked: tsize=0 retransmits=0"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["kernel"])
    }

    /// Without tsize nothing is asked, and the summary says so.
    @Test func noTsizeAsksNothing() throws {
        let out = try tree.downloads() + "/f"
        let result = try get(["size-1468.bin", "-o", out, "--no-tsize"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("no options asked: blksize=512, lockstep"))
        let line = try server.waitForLog(containing: "file=size-1468.bin")
        #expect(!line.contains("requested="))
    }

    /// --as FIRMWARE asks what that firmware asks, in its order, as the server's log line
    /// shows the request (docs/protocol.md, "Firmware seen booting from tftpd"); --as uefi
    /// probes first, and the server sees the probe end as a size probe.
    @Test(arguments: [
        ("ipxe", ["outcome=completed requested=blksize=1432,tsize=0"]),
        ("uboot", ["outcome=completed requested=timeout=5,blksize=1468,windowsize=4"]),
        (
            "uefi",
            [
                "outcome=size-probe requested=tsize=0,blksize=1468,windowsize=4",
                "outcome=completed requested=blksize=1468,windowsize=4",
            ]
        ),
        ("grub", ["outcome=completed requested=blksize=1024,tsize=0"]),
    ])
    func asFirmware(_ firmware: String, _ lines: [String]) throws {
        let tree = try ServedTree()
        let server = try TFTPDProcess(root: tree.root)
        let out = try tree.downloads() + "/f"
        let result = try get(["size-100003.bin", "-o", out, "--as", firmware], port: server.port)
        #expect(result.status == 0, "\(result.output)")
        #expect(Self.contents(out) == tree.contents("size-100003.bin"))
        for line in lines { try server.waitForLog(containing: line) }
        #expect(result.output.contains("granted blksize="))
        if firmware == "uefi" {
            #expect(result.output.contains("size probe: asked tsize=0 blksize=1468 windowsize=4"))
            #expect(result.output.contains("the server answered tsize=100003; ended it with ERROR 8"))
        }
    }

    /// The packets of --as uefi as a server sees them: the probe's RRQ, ERROR 8 "User
    /// aborted the transfer" to the port that answered it, then the fetch's RRQ from
    /// another client port (a new request), as EDK2 does in the firmware tests' captures.
    @Test func uefiProbeThenFetchPackets() throws {
        let listener = try UDPPeer()
        let port = try listener.bindLoopback()
        let out = try tree.downloads() + "/f"
        let client = try ExternalTool.start(
            [Self.tftp, "get", "127.0.0.1:\(port)", "boot.efi", "-o", out, "--as", "uefi"], seconds: 30)
        guard case (.success(.readRequest(let probe)), let probePort)? = listener.receive() else {
            Issue.record("no probe request")
            return
        }
        #expect(probe.options.map { "\($0.name)=\($0.value)" } == ["tsize=0", "blksize=1468", "windowsize=4"])
        let probeTID = try UDPPeer()
        probeTID.send(
            .optionAcknowledgement([
                TransferOption(name: "tsize", value: "4096"), TransferOption(name: "blksize", value: "1468"),
                TransferOption(name: "windowsize", value: "4"),
            ]), port: probePort)
        guard case (.success(.error(let code, let message)), let from)? = probeTID.receive() else {
            Issue.record("the probe was not ended with an ERROR")
            return
        }
        #expect(code == .optionRefused)
        #expect(message == "User aborted the transfer")
        #expect(from == probePort)
        guard case (.success(.readRequest(let fetch)), let fetchPort)? = listener.receive() else {
            Issue.record("no fetch request")
            return
        }
        #expect(fetch.options.map { "\($0.name)=\($0.value)" } == ["blksize=1468", "windowsize=4"])
        #expect(fetchPort != probePort)
        try UDPPeer().send(.error(code: .fileNotFound, message: "File not found"), port: fetchPort)
        #expect(client.wait().status == 2)
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
        let client = try ExternalTool.start([
            Self.tftp, "get", "127.0.0.1:\(port)", "f", "-o", dir + "/f", "--no-tsize",
        ])
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
        #expect(rrq.options.map(\.key) == ["blksize", "tsize", "windowsize"])
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
        #expect(result.output.contains("the server ignored blksize=1468 tsize=0 windowsize=8: blksize=512, lockstep"))
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

    @Test(
        .requiresPeerServers(.tftpHPA, .atftpd),
        arguments: PeerServer.Kind.allCases, optionSets)
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

    /// Every firmware's requests against the peers: tftp-hpa grants blksize and tsize but
    /// no windowsize, atftpd all of them; the file arrives either way.
    @Test(
        .requiresPeerServers(.tftpHPA, .atftpd),
        arguments: PeerServer.Kind.allCases, ["ipxe", "uboot", "uefi", "grub"])
    func asFirmware(_ kind: PeerServer.Kind, _ firmware: String) throws {
        let peer = try PeerServer(kind, root: tree.root)
        let out = try tree.downloads() + "/f"
        let result = try ExternalTool.run([
            GetCommandTests.tftp, "get", "127.0.0.1:\(peer.port)", "size-100003.bin", "-o", out, "--as", firmware,
        ])
        #expect(result.status == 0, "\(kind) --as \(firmware): \(result.output)")
        #expect(GetCommandTests.contents(out) == tree.contents("size-100003.bin"))
    }

    /// dnsmasq serves TFTP on port 69 only: it runs in a network namespace of its own
    /// (loopback only), and `tftp get --as uefi` beside it probes, then fetches.
    @Test(
        .requires("dnsmasq", "unshare", "ip", "ss"),
        .enabled(if: geteuid() == 0 || ExternalTool.everyPeerRequired, "needs root (a network namespace)"))
    func uefiAgainstDnsmasq() throws {
        let out = try tree.downloads() + "/f"
        let script = """
            ip link set lo up
            dnsmasq --no-daemon --conf-file=/dev/null --port=0 --enable-tftp --tftp-root="$1" \\
                --listen-address=127.0.0.1 --bind-interfaces --user=root --log-facility=- &
            for _ in $(seq 100); do ss -Huln 'sport = :69' | grep -q . && break; sleep 0.05; done
            "$2" get 127.0.0.1 size-100003.bin -o "$3" --as uefi
            status=$?
            kill $!
            exit $status
            """
        let result = try ExternalTool.run(
            ["unshare", "--net", "sh", "-c", script, "sh", tree.root, GetCommandTests.tftp, out], seconds: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("size probe: asked tsize=0 blksize=1468 windowsize=4"))
        #expect(result.output.contains("granted blksize=1468 windowsize=1"))
        #expect(GetCommandTests.contents(out) == tree.contents("size-100003.bin"))
    }

    @Test(
        .requiresPeerServers(.tftpHPA, .atftpd),
        arguments: PeerServer.Kind.allCases)
    func missingFile(_ kind: PeerServer.Kind) throws {
        let peer = try PeerServer(kind, root: tree.root)
        let result = try ExternalTool.run([
            GetCommandTests.tftp, "get", "127.0.0.1:\(peer.port)", "missing.bin", "-o", try tree.downloads() + "/m",
        ])
        #expect(result.status == 2, "\(result.output)")
    }

    @Test(
        .requiresPeerServers(.tftpHPA, .atftpd),
        arguments: PeerServer.Kind.allCases)
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
