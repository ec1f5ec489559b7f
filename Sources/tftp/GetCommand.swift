import ArgumentParser
import Glibc
import NIOCore
import TFTPCore
import UnixSignals

/// `tftp get HOST[:PORT] FILE`: fetch one file, strictly, and say plainly what happened.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch a file from a TFTP server.",
        discussion: """
            Examples:
              tftp get 192.0.2.10 pxelinux.0
              tftp get [::1]:6969 images/vmlinuz -o vmlinuz --blksize 1468 --windowsize 16
              tftp get host file -o -        (to standard output)
              tftp get 192.0.2.10 ipxe.efi --as uefi   (ask exactly what EDK2 firmware asks)

            The size is asked (tsize) unless --no-tsize or netascii, so the progress line has \
            a percent and an ETA. --as FIRMWARE asks what that firmware asks, in its order: ipxe \
            blksize=1432 tsize=0; uboot timeout=5 blksize=1468 windowsize=4; uefi a size \
            probe tsize=0 blksize=1468 windowsize=4 ended with ERROR 8, then the fetch \
            blksize=1468 windowsize=4; grub blksize=1024 tsize=0. The summary line names what \
            the server granted.

            The file is written to a temporary file beside the target and renamed only when \
            the transfer succeeded. A progress line is shown when standard error is a terminal.

            \(ExitStatus.help)
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case octet, netascii
    }

    /// What each firmware asks for, from the firmware tests' captures (docs/protocol.md,
    /// "Firmware seen booting from tftpd").
    enum Firmware: String, ExpressibleByArgument, CaseIterable {
        case ipxe, uboot, uefi, grub

        /// The fetch's request; `probe` is the request EDK2 sends first and ends with ERROR 8.
        func configurations(retransmit: RetransmitPolicy) -> (
            probe: ClientTransfer.Configuration?, fetch: ClientTransfer.Configuration
        ) {
            switch self {
            case .ipxe:
                return (
                    nil,
                    .init(
                        blockSize: 1432, requestSize: true, retransmit: retransmit, optionOrder: ["blksize", "tsize"])
                )
            case .uboot:
                return (
                    nil,
                    .init(
                        blockSize: 1468, windowSize: 4, timeoutSeconds: 5, retransmit: retransmit,
                        optionOrder: ["timeout", "blksize", "windowsize"])
                )
            case .uefi:
                return (
                    .init(
                        blockSize: 1468, windowSize: 4, requestSize: true, retransmit: retransmit,
                        optionOrder: ["tsize", "blksize", "windowsize"], probe: true),
                    .init(
                        blockSize: 1468, windowSize: 4, retransmit: retransmit, optionOrder: ["blksize", "windowsize"])
                )
            case .grub:
                return (
                    nil,
                    .init(
                        blockSize: 1024, requestSize: true, retransmit: retransmit, optionOrder: ["blksize", "tsize"])
                )
            }
        }
    }

    @Argument(help: "The server: HOST, HOST:PORT, [IPv6] or [IPv6]:PORT (port 69 by default).")
    var server: String

    @Argument(help: "The file to fetch, as the server names it.")
    var file: String

    @Option(
        name: .shortAndLong, help: "Where to write: a path, or - for standard output. Default: the file's base name.")
    var output: String?

    @OptionGroup var transfer: TransferFlags

    @Option(help: "Ask the server for this retransmission timeout in seconds (RFC 2349, 1-255), and use it ourselves.")
    var timeout: Int?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Ask for the file's size (RFC 2349): a percent and an ETA, and the received length is checked against it.",
            discussion: "Default: asked in octet mode, not in netascii (tftp-hpa refuses tsize there with ERROR 8)."))
    var tsize: Bool?

    @Option(name: .customLong("as"), help: "Ask exactly what this firmware asks: ipxe, uboot, uefi or grub.")
    var firmware: Firmware?

    @Option(help: "Transfer mode: octet or netascii (line endings converted to the local form).")
    var mode: Mode = .octet

    @Flag(help: "Also print the negotiated options and retransmissions.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if let timeout, !(1...255).contains(timeout) { throw ValidationError("--timeout must be 1-255 seconds") }
        if file.isEmpty || file.utf8.contains(0) {
            throw ValidationError("the file name must be non-empty, without NUL")
        }
        if output == nil, Self.baseName(file).isEmpty {
            throw ValidationError("\(file) has no base name to save as; give -o")
        }
        if firmware != nil,
            transfer.blksize != nil || transfer.windowsize != nil || timeout != nil || tsize != nil || mode != .octet
        {
            throw ValidationError(
                "--as sets the options itself; leave out --blksize, --windowsize, --timeout, --[no-]tsize and --mode")
        }
    }

    func run() async throws {
        let address = try resolve()
        let target = output ?? Self.baseName(file)
        let outputFile: OutputFile
        do {
            outputFile = try OutputFile(target, name: Self.baseName(file))
        } catch {
            Self.say("tftp: \(error)")
            throw ExitStatus.localIOError.exitCode
        }
        let retransmit = RetransmitPolicy(initialTimeout: .milliseconds(500), maxRetries: transfer.retries)
        var configuration = ClientTransfer.Configuration(
            mode: mode == .netascii ? .netascii : .octet,
            blockSize: transfer.blksize,
            windowSize: transfer.windowsize,
            timeoutSeconds: timeout,
            requestSize: tsize ?? (mode == .octet),
            retransmit: retransmit
        )
        if let firmware {
            let (probe, fetch) = firmware.configurations(retransmit: retransmit)
            configuration = fetch
            if let probe {
                // EDK2 asks the size first and ends that request with ERROR 8.
                let report = try await Self.fetch(
                    Array(file.utf8), from: address, configuration: probe,
                    into: FileSink(descriptor: outputFile.descriptor, mode: probe.mode), progress: nil)
                guard case .probed(let size) = report.outcome else {
                    outputFile.discard()
                    Self.say(summary(report, address: address, target: nil))
                    throw ExitStatus(report.outcome).exitCode
                }
                if !quiet {
                    Self.say(
                        "tftp: size probe: asked \(Self.optionText(report.requested)), "
                            + "the server answered \(size.map { "tsize=\($0)" } ?? "no tsize"); ended it with ERROR 8, as EDK2 does"
                    )
                }
            }
        }
        let meter: ProgressMeter? =
            !quiet && ProgressMeter.standardErrorIsTerminal ? ProgressMeter(started: .now()) : nil
        var progress: (@Sendable (Int64, Int64?) -> Void)?
        if let meter {
            progress = { received, total in meter.update(received: received, total: total) }
        }
        let report = try await Self.fetch(
            Array(file.utf8),
            from: address,
            configuration: configuration,
            into: FileSink(descriptor: outputFile.descriptor, mode: configuration.mode),
            progress: progress
        )
        meter?.clear()
        var status = ExitStatus(report.outcome)
        if status == .success {
            do {
                try outputFile.commit()
            } catch {
                Self.say("tftp: \(error)")
                throw ExitStatus.localIOError.exitCode
            }
        } else {
            outputFile.discard()
        }
        if status != .success || !quiet {
            Self.say(summary(report, address: address, target: outputFile.path))
        }
        if verbose { Self.say(details(report)) }
        if case .cancelled = report.outcome { status = .cancelled }
        if status != .success { throw status.exitCode }
    }

    /// Runs the transfer; SIGINT or SIGTERM cancels it, which tells the server. The
    /// signals are trapped before the request goes out, so none is lost to a race.
    private static func fetch(
        _ filename: [UInt8],
        from address: SocketAddress,
        configuration: ClientTransfer.Configuration,
        into sink: FileSink,
        progress: (@Sendable (Int64, Int64?) -> Void)?
    ) async throws -> ClientReport {
        // A parent may hand us these signals blocked (the mask survives exec); Ctrl-C must work.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return try await withThrowingTaskGroup(of: ClientReport?.self) { group in
            group.addTask {
                for await _ in signals { break }
                return nil
            }
            group.addTask {
                try await TFTPClient().get(
                    filename, from: address, configuration: configuration, into: sink, progress: progress)
            }
            while let result = try await group.next() {
                group.cancelAll()
                if let result { return result }
            }
            throw ExitStatus.cancelled.exitCode
        }
    }

    private func resolve() throws -> SocketAddress {
        try Self.resolve(server)
    }

    /// HOST, HOST:PORT, [IPv6], [IPv6]:PORT or a bare IPv6 address; port 69 by default.
    static func resolve(_ server: String) throws -> SocketAddress {
        let parsed: ListenAddress? =
            server.allSatisfy(\.isNumber)
            ? nil
            : ListenAddress(parsing: server, defaultPort: 69)
                ?? (server.filter { $0 == ":" }.count > 1 ? ListenAddress(host: server, port: 69) : nil)
        guard let parsed, !parsed.host.isEmpty else {
            throw ValidationError("\(server) is not HOST, HOST:PORT, [IPv6] or [IPv6]:PORT")
        }
        do {
            return try SocketAddress.makeAddressResolvingHost(parsed.host, port: parsed.port)
        } catch {
            Self.say("tftp: cannot resolve \(parsed.host)")
            throw ExitStatus.timedOut.exitCode
        }
    }

    static func optionText(_ options: [TransferOption]) -> String {
        options.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    /// The last component of a remote name (`/` or `\` separated).
    static func baseName(_ name: String) -> String {
        String(name.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
            .split(separator: "\\", omittingEmptySubsequences: false).last.map(String.init) ?? ""
    }

    static func say(_ line: String) { ProgressMeter.emit(line + "\n") }
}
