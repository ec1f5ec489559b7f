import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import TFTPCore
import TFTPHTTPS
import TFTPMachines
import UnixSignals

/// Runs a ``DaemonConfiguration``: the TFTP server, the HTTP and HTTPS listeners (and the
/// watcher of the certificate), the operator endpoints, one startup gate where the privilege
/// plan is carried out once every socket is bound, and the signals (the first SIGTERM drains,
/// the second ends transfers at once; SIGHUP re-reads the certificate).
struct DaemonServices {
    var configuration: DaemonConfiguration
    var privileges: PrivilegePlan
    var logger: Logger

    /// Log lines on stderr in the chosen format; returns the daemon's logger.
    static func bootstrapLogging(level: Logger.Level, format: LogLineFormat) -> Logger {
        LoggingSystem.bootstrap { label in
            guard format == .text else { return LineLogHandler(format: format, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "tftpd")
    }

    func run() async throws {
        let server = configuration.server
        let logger = logger
        if let limit = DescriptorLimit.raiseToHardLimit(),
            limit < DescriptorLimit.needed(transfers: server.maxTransfers)
        {
            logger.warning(
                "the open-file limit is lower than --max-transfers needs: requests past it get an ERROR",
                metadata: ["limit": "\(limit)", "needed": "\(DescriptorLimit.needed(transfers: server.maxTransfers))"])
        }
        var prometheus: PrometheusCollectorRegistry?
        if configuration.metrics != nil {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            prometheus = registry
        }
        let serverMetrics = ServerMetrics()
        for rule in server.filenameMap.rules {
            logger.info("filename map", metadata: ["rule": "\(rule)"])
        }
        if let remap = server.filenameMap.remap {
            logger.info("remap file", metadata: ["rules": "\(remap.count)"])
        }

        // Every listener binds (port 69 needs root), then waits at the gate; the last one
        // to arrive carries out the privilege plan, and only then is the first request read.
        let gate = StartupGate(expected: configuration.listeningServices) { [privileges] in
            switch privileges {
            case .become(let account):
                do {
                    try account.become()
                } catch {
                    logger.critical("\(error)")
                    throw DaemonExit.privileges
                }
                logger.notice(
                    "dropped privileges",
                    metadata: ["user": "\(account.name)", "uid": "\(account.uid)", "gid": "\(account.gid)"])
            case .serveAsRoot:
                logger.warning("serving as root (--allow-root): a flaw in tftpd would be a flaw with root's rights")
            case .stay:
                break
            }
        }
        let arrive: @Sendable ([SocketAddress]) async throws -> Void = { _ in try await gate.arrive() }

        // The certificate is read before the privilege drop (its key is often readable by
        // root alone); a bad one stops the start with the reason.
        var watcher: TLSCredentialsWatcher?
        var http = configuration.http
        if let tls = configuration.tls {
            do {
                let credentials = try TLSCredentials(certificate: tls.certificate, key: tls.key)
                TLSCredentialsWatcher.describe(credentials.facts, logger: logger)
                http?.security = .tls(credentials, logger: logger, metrics: serverMetrics)
                watcher = TLSCredentialsWatcher(credentials: credentials, logger: logger)
            } catch {
                logger.critical("--tls-cert/--tls-key: \(error)")
                throw DaemonExit.tlsUnservable
            }
        }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        do {
            let contentRoot = try ContentRoot(path: server.root, policy: server.contentPolicy)
            services.append(
                .init(
                    service: try TFTPServer(
                        configuration: server, root: contentRoot, logger: logger, metrics: serverMetrics,
                        onListening: arrive)))
            if let http {
                services.append(
                    .init(
                        service: HTTPFileServer(
                            configuration: http, root: contentRoot, logger: logger, metrics: serverMetrics,
                            onListening: arrive)))
            }
            if let proxy = configuration.proxyDHCP {
                services.append(
                    .init(
                        service: ProxyDHCPServer(
                            configuration: proxy, logger: logger, metrics: serverMetrics, onListening: arrive)))
            }
            if let watcher {
                services.append(.init(service: watcher))
            }
            if let (file, service) = configuration.machines {
                MachinesFileWatcher.describe(service.book, path: file, logger: logger)
                services.append(.init(service: MachinesFileWatcher(path: file, service: service, logger: logger)))
            }
            if let address = configuration.status, let board = server.board {
                services.append(
                    .init(
                        service: OperatorEndpoint.status(
                            address: address, logger: logger, board: board, machines: configuration.machines?.service,
                            onListening: arrive)))
            }
            if let address = configuration.metrics, let prometheus {
                services.append(
                    .init(
                        service: OperatorEndpoint.metrics(
                            address: address, logger: logger, render: { prometheus.emitToBuffer() },
                            onListening: arrive)))
            }
        } catch {
            logger.critical("\(error)")
            throw DaemonExit.rootUnservable
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // ServiceGroup starts a graceful shutdown on the first signal; a second one ends the
        // remaining transfers at once (cancellation: each sends its client an ERROR). The
        // signals are trapped here, before anything runs, so that a busy start cannot let the
        // first one pass uncounted and the second be taken for the first.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { [watcher] in
                for await _ in hangups {
                    if let watcher {
                        watcher.reload(because: "SIGHUP")
                    } else {
                        logger.info(
                            "SIGHUP: nothing to re-read (the configuration is read at start; restart to change it)")
                    }
                }
            }
            tasks.addTask {
                var caught = 0
                for await signal in signals {
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
