import ArgumentParser
import Dispatch
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import TFTPCore
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `tftpd`: parses flags and wires the services; nothing else lives here.
@main
struct TFTPDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftpd",
        abstract: "A read-only TFTP server for network boot (RFC 1350, 2347-2349, 7440).",
        discussion: """
            Serves the files beneath --root over TFTP and, with --http, over HTTP/1.1 \
            through the same path rules. Write requests are refused. Runs in the \
            foreground and logs one line per transfer to stderr. SIGTERM or SIGINT stops \
            accepting requests and lets running transfers finish within --grace-period; \
            a second signal ends them at once.

            Started as root, it binds its sockets and then serves as --user; it refuses to \
            serve as root without --allow-root. Under systemd socket activation it takes \
            the UDP sockets systemd passes (LISTEN_FDS) instead of binding --listen.

            Exit status: 0 stopped cleanly or --check passed; 1 --check failed or a socket \
            could not be bound; 64 usage; 66 the root cannot be served; 67 no such --user; \
            77 refused to serve as root or could not drop privileges.
            """
    )

    @Option(help: "Directory to serve (may be a symlink).")
    var root: String

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Address and port to listen on; repeatable. Forms: 0.0.0.0:69, [::1]:6969, :69 (all addresses, IPv4 and IPv6). Default :69, or none when systemd passes sockets.",
            valueName: "addr:port"
        )
    )
    var listen: [String] = []

    @Option(help: "Maximum transfers running at once; further requests get an ERROR.")
    var maxTransfers = 1000

    @Option(help: "Maximum transfers at once for one client IP address (any ports); further requests get an ERROR.")
    var maxPerClient = 256

    @Option(
        help: ArgumentHelp(
            "Largest blksize granted (8-65464); larger requests are clamped. Default: what fits the MTU of the listening interface without IP fragments (1468 on Ethernet, 1468 when unknown).",
            valueName: "bytes"
        )
    )
    var maxBlksize: Int?

    @Option(help: "Largest windowsize granted (1-65535); larger requests are clamped.")
    var maxWindowsize = 64

    @Option(help: "Initial retransmit timeout in milliseconds, before the round trip is measured.")
    var timeout = 1000

    @Option(help: "Smallest retransmit timeout in milliseconds that round-trip adaptation may reach.")
    var minTimeout = 50

    @Option(help: "Retransmissions without progress before a transfer is given up.")
    var retries = 8

    @Option(
        help: ArgumentHelp(
            "Retransmissions of the first packet before the client has acknowledged anything.",
            discussion: """
                A request may carry a spoofed address; until the client acknowledges the OACK \
                or DATA 1, this bounds what the server sends to that address (plus one packet \
                per repeated request). More helps clients that never re-send their own ACK \
                (GRUB) on lossy links, at the price of a larger reflection.
                """))
    var unprovenRetries = 1

    @Option(
        help: ArgumentHelp(
            "Seconds a transfer whose client never acknowledged its first packet keeps listening for a late ACK.",
            discussion: """
                Until a client acknowledges the OACK or DATA 1, the server sends that packet and \
                one retransmission (one more per repeated request), then falls silent and gives \
                the transfer's slot back; it keeps the socket and the file this long for a \
                client that re-sends its ACK late (curl waits 72 s). 0: end at once.
                """))
    var lateAckWait = 90

    @Option(
        help: ArgumentHelp(
            "TFTP engine threads, each with its own socket per listen address. Default: the number of cores.",
            valueName: "n"
        )
    )
    var threads: Int?

    @Option(help: "Seconds running transfers may go on after SIGTERM.")
    var gracePeriod = 10

    @Flag(help: "Also serve files that are not world-readable (tftp-hpa's traditional rule refuses them).")
    var permissive = false

    @Flag(help: "Refuse symlinks, even those that stay inside the root.")
    var noSymlinks = false

    @Option(
        name: .customLong("http"),
        help: ArgumentHelp(
            "Also serve the root over HTTP/1.1 on this address; repeatable. Off by default.",
            valueName: "addr:port"
        )
    )
    var http: [String] = []

    @Flag(help: "HTTP: list directories (dir/ URLs); without it they get 403.")
    var httpListing = false

    @Option(help: "HTTP: most bytes of request line and headers; more gets 414 or 431.")
    var httpMaxHeaderBytes = 16 * 1024

    @Option(help: "HTTP: seconds a client may take to send its request headers; then 408.")
    var httpHeaderTimeout = 10

    @Option(help: "HTTP: seconds an idle keep-alive connection stays open.")
    var httpIdleTimeout = 60

    @Option(help: "HTTP: connections at once; further ones are closed.")
    var httpMaxConnections = 1024

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log line format on stderr: text, logfmt or json.")
    var logFormat: String = "text"

    @Option(help: "After binding, serve as this user and its groups (needs root to start).")
    var user: String?

    @Flag(help: "Allow serving as root when started as root without --user (logged as a warning).")
    var allowRoot = false

    @Option(
        help: ArgumentHelp(
            "Transfer sockets take ports from this range only, e.g. 50000:50999 for a firewall rule; a request finding none free gets an ERROR.",
            valueName: "low:high"
        )
    )
    var portRange: String?

    @Flag(
        help:
            "Serve every transfer from the listening port (for NAT and strict firewalls), told apart by the client's address and port."
    )
    var singlePort = false

    @Option(
        name: .customLong("map"),
        help: ArgumentHelp(
            "Rewrite requested names starting with PREFIX to start with REPLACEMENT, before the path check; repeatable, applied in order. Leading / is ignored. E.g. --map tftpboot/= --map pxelinux.cfg/=site-a/pxelinux.cfg/",
            valueName: "prefix=replacement"
        )
    )
    var map: [String] = []

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://ADDR:PORT/metrics. Off by default.", valueName: "addr:port")
    )
    var metrics: String?

    @Option(
        help: ArgumentHelp(
            "Serve a live status page at http://ADDR:PORT/ (and JSON at /api/transfers). Off by default.",
            discussion: """
                Transfers in progress, the last 500 finished ones grouped by client, failures and \
                refusals by reason, totals since start: what the log lines say, nothing more. \
                Bind it to the operator's network (e.g. 127.0.0.1:9170).
                """,
            valueName: "addr:port")
    )
    var status: String?

    @Flag(help: "Check the configuration (root, user, addresses bindable) and exit: 0 if it would start.")
    var check = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
        for text in listen where ListenAddress(parsing: text) == nil {
            throw ValidationError("--listen \(text): expected ADDR:PORT, e.g. 0.0.0.0:69 or [::1]:6969")
        }
        if let maxBlksize, !(NegotiatedOptions.minBlockSize...NegotiatedOptions.maxBlockSize).contains(maxBlksize) {
            throw ValidationError("--max-blksize must be 8...65464")
        }
        guard LogLineFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text, logfmt or json")
        }
        if let portRange {
            guard Self.parsePortRange(portRange) != nil else {
                throw ValidationError("--port-range \(portRange): expected LOW:HIGH with 1 <= LOW <= HIGH <= 65535")
            }
            guard !singlePort else { throw ValidationError("--port-range and --single-port exclude each other") }
        }
        for rule in map where FilenameMap.Rule(parsing: rule) == nil {
            throw ValidationError("--map \(rule): expected PREFIX=REPLACEMENT with a non-empty PREFIX")
        }
        if let status, ListenAddress(parsing: status) == nil {
            throw ValidationError("--status \(status): expected ADDR:PORT, e.g. 127.0.0.1:9170")
        }
        if let metrics, ListenAddress(parsing: metrics) == nil {
            throw ValidationError("--metrics \(metrics): expected ADDR:PORT, e.g. 127.0.0.1:9169")
        }
        guard (1...NegotiatedOptions.maxWindowSize).contains(maxWindowsize) else {
            throw ValidationError("--max-windowsize must be 1...65535")
        }
        for text in http where ListenAddress(parsing: text) == nil {
            throw ValidationError("--http \(text): expected ADDR:PORT, e.g. 0.0.0.0:8080 or [::]:8080")
        }
        guard httpMaxHeaderBytes >= 256, httpHeaderTimeout > 0, httpIdleTimeout > 0, httpMaxConnections > 0 else {
            throw ValidationError("--http-max-header-bytes must be at least 256; HTTP timeouts and limits positive")
        }
        guard maxPerClient > 0 else { throw ValidationError("--max-per-client must be positive") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be 1...1024") }
        guard timeout > 0, minTimeout > 0, retries >= 0, maxTransfers > 0, gracePeriod >= 0, lateAckWait >= 0,
            unprovenRetries >= 0
        else {
            throw ValidationError(
                "timeouts, --max-transfers must be positive; --retries, --grace-period, --late-ack-wait, --unproven-retries not negative"
            )
        }
    }

    static func parsePortRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1 <= low, low <= high,
            high <= 65535
        else { return nil }
        return low...high
    }

    /// Runs ``serve()`` while the main thread waits here. Swift's async main would park the
    /// main thread with dispatch_main(), which exits it; an exited main thread keeps root's
    /// IDs in /proc/PID/status (what ps and operators read) after the privilege drop has
    /// changed every live thread. Blocked here, it drops with the others.
    func run() throws {
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        let done = DispatchSemaphore(value: 0)
        let command = self
        Task {
            do {
                try await command.serve()
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0 }.get()
    }

    func serve() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogLineFormat(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { label in
            guard format == .text else { return LineLogHandler(format: format, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tftpd")
        if let limit = DescriptorLimit.raiseToHardLimit(), limit < DescriptorLimit.needed(transfers: maxTransfers) {
            logger.warning(
                "the open-file limit is lower than --max-transfers needs: requests past it get an ERROR",
                metadata: ["limit": "\(limit)", "needed": "\(DescriptorLimit.needed(transfers: maxTransfers))"])
        }
        let inherited = SocketActivation.takeInheritedSockets()
        for fd in inherited.other {
            logger.warning("ignoring a passed socket that is not UDP", metadata: ["fd": "\(fd)"])
        }
        let addresses =
            listen.isEmpty && inherited.datagram.isEmpty
            ? [ListenAddress(host: "::", port: 69)] : listen.compactMap { ListenAddress(parsing: $0) }
        let httpAddresses = http.compactMap { ListenAddress(parsing: $0) }
        let metricsAddress = metrics.flatMap { ListenAddress(parsing: $0) }
        let statusAddress = status.flatMap { ListenAddress(parsing: $0) }
        let contentPolicy = ContentRoot.Policy(requireWorldReadable: !permissive, followSymlinks: !noSymlinks)

        if check {
            let checker = ConfigurationCheck(
                root: root, policy: contentPolicy, user: user, allowRoot: allowRoot,
                addresses: addresses.map { ("--listen", $0, .udp) } + httpAddresses.map { ("--http", $0, .tcp) }
                    + (metricsAddress.map { [("--metrics", $0, .tcp)] } ?? [])
                    + (statusAddress.map { [("--status", $0, .tcp)] } ?? []),
                inheritedSockets: inherited.datagram.count
            )
            let failures = checker.run { print($0) }
            print(failures == 0 ? "configuration ok" : "configuration has \(failures) problem(s)")
            throw ExitCode(failures == 0 ? 0 : 1)
        }

        // Who serves: decided before anything is bound, so a mistake costs nothing.
        var account: ServiceAccount?
        if let user {
            do {
                account = try ServiceAccount.lookup(user)
            } catch {
                logger.critical("\(error)")
                throw ExitCode(67)
            }
            if !ServiceAccount.isRoot && getuid() != account?.uid {
                logger.critical("\(ServiceAccount.Problem.notRoot(user))")
                throw ExitCode(77)
            }
        } else if ServiceAccount.isRoot && !allowRoot {
            logger.critical("refusing to serve as root: give --user NAME (e.g. --user tftp) or --allow-root")
            throw ExitCode(77)
        }

        var prometheus: PrometheusCollectorRegistry?
        if metricsAddress != nil {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            prometheus = registry
        }
        let serverMetrics = ServerMetrics()

        let configuration = ServerConfiguration(
            root: root,
            listen: addresses,
            transfer: .init(
                limits: NegotiationLimits(
                    maxBlockSize: maxBlksize ?? NegotiatedOptions.maxBlockSize, maxWindowSize: maxWindowsize),
                retransmit: RetransmitPolicy(
                    initialTimeout: .milliseconds(Int64(timeout)),
                    minimumTimeout: .milliseconds(Int64(minTimeout)),
                    maximumTimeout: .milliseconds(Int64(max(4000, timeout))),
                    maxRetries: retries,
                    unprovenRetransmits: unprovenRetries
                ),
                suspension: .seconds(Int64(lateAckWait))
            ),
            contentPolicy: contentPolicy,
            maxTransfers: maxTransfers,
            maxPerClient: maxPerClient,
            gracePeriod: .seconds(Int64(gracePeriod)),
            singlePort: singlePort,
            portRange: portRange.flatMap(Self.parsePortRange),
            filenameMap: FilenameMap(map.compactMap(FilenameMap.Rule.init(parsing:))),
            fitBlockSizeToMTU: maxBlksize == nil,
            inheritedSockets: inherited.datagram,
            threads: threads ?? System.coreCount,
            board: statusAddress == nil ? nil : TransferBoard()
        )
        for rule in configuration.filenameMap.rules {
            logger.info("filename map", metadata: ["rule": "\(rule)"])
        }

        // Every listener binds (port 69 needs root), then waits at the gate; the last one
        // to arrive drops privileges, and only then is the first request read.
        let participants =
            1 + (httpAddresses.isEmpty ? 0 : 1) + (metricsAddress == nil ? 0 : 1) + (statusAddress == nil ? 0 : 1)
        let gate = StartupGate(expected: participants) { [allowRoot, account] in
            if let account {
                do {
                    try account.become()
                } catch {
                    logger.critical("\(error)")
                    throw ExitCode(77)
                }
                logger.notice(
                    "dropped privileges",
                    metadata: ["user": "\(account.name)", "uid": "\(account.uid)", "gid": "\(account.gid)"])
            } else if ServiceAccount.isRoot && allowRoot {
                logger.warning("serving as root (--allow-root): a flaw in tftpd would be a flaw with root's rights")
            }
        }
        let arrive: @Sendable ([SocketAddress]) async throws -> Void = { _ in try await gate.arrive() }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        do {
            let contentRoot = try ContentRoot(path: root, policy: configuration.contentPolicy)
            services.append(
                .init(
                    service: try TFTPServer(
                        configuration: configuration, root: contentRoot, logger: logger, metrics: serverMetrics,
                        onListening: arrive)))
            if !httpAddresses.isEmpty {
                let httpConfiguration = HTTPConfiguration(
                    listen: httpAddresses,
                    listing: httpListing,
                    maxHeaderBytes: httpMaxHeaderBytes,
                    headerTimeout: .seconds(Int64(httpHeaderTimeout)),
                    idleTimeout: .seconds(Int64(httpIdleTimeout)),
                    maxConnections: httpMaxConnections,
                    gracePeriod: .seconds(Int64(gracePeriod)),
                    filenameMap: configuration.filenameMap
                )
                services.append(
                    .init(
                        service: HTTPFileServer(
                            configuration: httpConfiguration, root: contentRoot, logger: logger,
                            metrics: serverMetrics, onListening: arrive)))
            }
            if let statusAddress, let board = configuration.board {
                services.append(
                    .init(
                        service: OperatorEndpoint.status(
                            address: statusAddress, logger: logger, board: board, onListening: arrive)))
            }
            if let metricsAddress, let prometheus {
                services.append(
                    .init(
                        service: OperatorEndpoint.metrics(
                            address: metricsAddress, logger: logger, render: { prometheus.emitToBuffer() },
                            onListening: arrive)))
            }
        } catch {
            logger.critical("\(error)")
            throw ExitCode(66)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // ServiceGroup starts a graceful shutdown on the first signal; a second one ends the
        // remaining transfers at once (cancellation: each sends its client an ERROR).
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var caught = 0
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    caught += 1
                    if caught == 2 {
                        logger.notice("second \(signal): ending running transfers now")
                        return
                    }
                }
            }
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}
