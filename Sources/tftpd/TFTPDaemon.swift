import ArgumentParser
import Logging
import NIOCore
import ServiceLifecycle
import TFTPCore
import UnixSignals

/// `tftpd`: parses flags and wires the services; nothing else lives here.
@main
struct TFTPDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftpd",
        abstract: "A read-only TFTP server for network boot (RFC 1350, 2347-2349, 7440).",
        discussion: """
            Serves the files beneath --root over TFTP and, with --http, over HTTP/1.1 \
            through the same path rules. Write requests are refused. Runs in the \
            foreground and logs one line per transfer to stderr. SIGTERM or SIGINT stops \
            accepting requests and lets running transfers finish within --grace-period; \
            a second signal ends them at once.
            """
    )

    @Option(help: "Directory to serve (may be a symlink).")
    var root: String

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Address and port to listen on; repeatable. Forms: 0.0.0.0:69, [::1]:6969, :69 (all addresses, IPv4 and IPv6).",
            valueName: "addr:port"
        )
    )
    var listen: [String] = []

    @Option(help: "Maximum transfers running at once; further requests get an ERROR.")
    var maxTransfers = 1000

    @Option(help: "Maximum transfers at once for one client IP address (any ports); further requests get an ERROR.")
    var maxPerClient = 256

    @Option(help: "Largest blksize granted (8-65464); larger requests are clamped.")
    var maxBlksize = Options.maxBlockSize

    @Option(help: "Largest windowsize granted (1-65535); larger requests are clamped.")
    var maxWindowsize = 64

    @Option(help: "Initial retransmit timeout in milliseconds, before the round trip is measured.")
    var timeout = 1000

    @Option(help: "Smallest retransmit timeout in milliseconds that round-trip adaptation may reach.")
    var minTimeout = 50

    @Option(help: "Retransmissions without progress before a transfer is given up.")
    var retries = 8

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

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
        for text in listen where ListenAddress(parsing: text) == nil {
            throw ValidationError("--listen \(text): expected ADDR:PORT, e.g. 0.0.0.0:69 or [::1]:6969")
        }
        guard (Options.minBlockSize...Options.maxBlockSize).contains(maxBlksize) else {
            throw ValidationError("--max-blksize must be 8...65464")
        }
        guard (1...Options.maxWindowSize).contains(maxWindowsize) else {
            throw ValidationError("--max-windowsize must be 1...65535")
        }
        for text in http where ListenAddress(parsing: text) == nil {
            throw ValidationError("--http \(text): expected ADDR:PORT, e.g. 0.0.0.0:8080 or [::]:8080")
        }
        guard httpMaxHeaderBytes >= 256, httpHeaderTimeout > 0, httpIdleTimeout > 0, httpMaxConnections > 0 else {
            throw ValidationError("--http-max-header-bytes must be at least 256; HTTP timeouts and limits positive")
        }
        guard maxPerClient > 0 else { throw ValidationError("--max-per-client must be positive") }
        guard timeout > 0, minTimeout > 0, retries >= 0, maxTransfers > 0, gracePeriod >= 0 else {
            throw ValidationError("timeouts, --max-transfers must be positive; --retries, --grace-period not negative")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tftpd")
        let addresses =
            listen.isEmpty ? [ListenAddress(host: "::", port: 69)] : listen.compactMap { ListenAddress(parsing: $0) }
        let configuration = ServerConfiguration(
            root: root,
            listen: addresses,
            transfer: .init(
                limits: NegotiationLimits(maxBlockSize: maxBlksize, maxWindowSize: maxWindowsize),
                retransmit: RetransmitPolicy(
                    initialTimeout: .milliseconds(Int64(timeout)),
                    minimumTimeout: .milliseconds(Int64(minTimeout)),
                    maximumTimeout: .milliseconds(Int64(max(4000, timeout))),
                    maxRetries: retries
                )
            ),
            contentPolicy: ContentRoot.Policy(requireWorldReadable: !permissive, followSymlinks: !noSymlinks),
            maxTransfers: maxTransfers,
            maxPerClient: maxPerClient,
            gracePeriod: .seconds(Int64(gracePeriod))
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        do {
            let contentRoot = try ContentRoot(path: root, policy: configuration.contentPolicy)
            services.append(
                .init(service: try TFTPServer(configuration: configuration, root: contentRoot, logger: logger)))
            if !http.isEmpty {
                let httpConfiguration = HTTPConfiguration(
                    listen: http.compactMap { ListenAddress(parsing: $0) },
                    listing: httpListing,
                    maxHeaderBytes: httpMaxHeaderBytes,
                    headerTimeout: .seconds(Int64(httpHeaderTimeout)),
                    idleTimeout: .seconds(Int64(httpIdleTimeout)),
                    maxConnections: httpMaxConnections,
                    gracePeriod: .seconds(Int64(gracePeriod))
                )
                services.append(
                    .init(service: HTTPFileServer(configuration: httpConfiguration, root: contentRoot, logger: logger)))
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
