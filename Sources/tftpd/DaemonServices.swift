import Crypto
import Foundation
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import TFTPCore
import TFTPHTTPS
import TFTPMachines
import TFTPOrigin
import UnixSignals

/// Runs a ``DaemonConfiguration``: the TFTP server, the HTTP and HTTPS listeners, the one
/// watcher of the files read after start (certificate and key, machines file, map file), the
/// operator endpoints, one startup gate where the privilege plan is carried out once every
/// socket is bound, and the signals (the first SIGTERM drains, the second ends transfers at
/// once; SIGHUP looks up the root's path and re-reads every watched file).
struct DaemonServices {
    var configuration: DaemonConfiguration
    var privileges: PrivilegePlan
    var logger: Logger

    /// The daemon's writer of log lines (its thread starts on first use).
    static let logWriter = LogWriter()

    /// Log lines on stderr in the chosen format, formatted and written in batches by
    /// ``logWriter``'s thread; returns the daemon's logger.
    static func bootstrapLogging(level: Logger.Level, format: LogLineFormat) -> Logger {
        let writer = logWriter
        LoggingSystem.bootstrap { label in
            LineLogHandler(format: format, level: level, label: label, writer: writer)
        }
        return Logger(label: "tftpd")
    }

    func run() async throws {
        var server = configuration.server
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
            logger.info("remap file", metadata: ["rules": "\(remap.rules.count)"])
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
        var http = configuration.http
        var sources: [ConfigWatcher.Source] = []
        if let tls = configuration.tls {
            do {
                let credentials = try TLSCredentials(certificate: tls.certificate, key: tls.key)
                http?.security = .tls(credentials, logger: logger, metrics: TLSMetrics())
                sources.append(credentials.source(logger: logger))
            } catch {
                logger.critical("--tls-cert/--tls-key: \(error)")
                throw DaemonExit.tlsUnservable
            }
        }
        // The origin's client, and the cache its files are kept in (docs/fleet.md).
        let (originHTTP, cache) = try makeOrigin()
        server.origin = cache
        http?.origin = cache
        if let cache, let board = server.board {
            board.showOrigin { cache.status }
        }
        if let (location, service) = configuration.machines {
            if MachinesFile.isRemote(location) {
                let keep = configuration.origin.map { $0.cacheDirectory + "/config/machines" }
                sources.append(MachinesFile.source(url: location, keep: keep, service: service))
            } else {
                sources.append(MachinesFile.source(path: location, service: service))
            }
        }
        if let file = configuration.mapFile, let remap = server.filenameMap.remap {
            sources.append(
                ConfigWatcher.Source(name: "map-file", paths: [file], maxBytes: 4 << 20) { contents in
                    let rules = try RemapRules(parsing: String(decoding: contents[0], as: UTF8.self))
                    remap.replace(rules)
                    return ["rules": "\(rules.count)"]
                })
        }
        // One watcher for every file read after start: loaded once more here (what the
        // status page shows is what was read now), then looked at every second.
        let versions = configuration.versions
        let watcher = ConfigWatcher(
            sources: sources, versions: versions, logger: logger, metrics: serverMetrics, fetcher: originHTTP,
            digest: { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() })
        do {
            try await watcher.loadAll()
        } catch {
            logger.critical("\(error.source): \(error.reason)")
            throw error.source == "tls" ? DaemonExit.tlsUnservable : DaemonExit.usage
        }

        // The origin's client closes last and its cache's downloads end after the
        // listeners have drained (a service group stops its services in reverse order).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let originHTTP { services.append(.init(service: originHTTP)) }
        if let cache { services.append(.init(service: cache)) }
        let contentRoot: ContentRoot
        do {
            let rootPath = server.root
            contentRoot = try ContentRoot(path: rootPath, policy: server.contentPolicy) { change in
                Self.report(change, root: rootPath, versions: versions, metrics: serverMetrics, logger: logger)
            }
            versions.root(path: server.root, resolved: ContentRoot.resolved(server.root), at: TransferBoard.wallClock())
        } catch {
            logger.critical("\(error)")
            throw DaemonExit.rootUnservable
        }
        do {
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
            if !sources.isEmpty {
                services.append(.init(service: watcher))
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
            let watched = sources.map(\.name).joined(separator: ",")
            tasks.addTask {
                for await _ in hangups {
                    // Everything read after start, and where the root leads, looked at now.
                    logger.notice(
                        "SIGHUP: reading the root's path and every watched file again",
                        metadata: ["files": "\(watched)"])
                    contentRoot.recheck()
                    await watcher.reloadAll(because: "SIGHUP")
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

    /// The origin's HTTP client (for `--origin` and a `--machines` URL) and the cache (for
    /// `--origin`), or nils; a CA that does not read, or a cache that cannot be made, stops
    /// the start with the reason. A cache made as root is handed to the account tftpd will
    /// serve as.
    private func makeOrigin() throws -> (OriginHTTP?, OriginCache?) {
        let remoteMachines = configuration.machines.map { MachinesFile.isRemote($0.file) } ?? false
        guard configuration.origin != nil || remoteMachines else { return (nil, nil) }
        let client: OriginHTTP
        do {
            client = try OriginHTTP(
                certificateAuthority: configuration.originCA, userAgent: configuration.originUserAgent)
        } catch {
            logger.critical("--origin-ca \(configuration.originCA ?? ""): \(error)")
            throw DaemonExit.originUnservable
        }
        guard let origin = configuration.origin else { return (client, nil) }
        do {
            let cache = try OriginCache(configuration: origin, http: client, logger: logger)
            if case .become(let account) = privileges {
                try CacheOwnership.give(origin.cacheDirectory, to: account.uid, gid: account.gid)
            }
            let held = cache.status
            logger.info(
                "origin: names missing from the root are fetched",
                metadata: [
                    "origin": "\(origin.url)", "cache": "\(origin.cacheDirectory)", "files": "\(held.entries)",
                    "bytes": "\(held.bytes)", "limit": "\(origin.cacheSize)",
                    "ttl_s": "\(origin.freshness.nanoseconds / 1_000_000_000)",
                    "manifest": "\(origin.manifest ?? "none")",
                ])
            return (client, cache)
        } catch {
            logger.critical("--cache \(origin.cacheDirectory): \(error)")
            throw DaemonExit.originUnservable
        }
    }

    /// The root's path leads elsewhere now, or nowhere: a line, the count, the status page.
    static func report(
        _ change: ContentRoot.Change, root: String, versions: ConfigVersions, metrics: ServerMetrics, logger: Logger
    ) {
        let now = TransferBoard.wallClock()
        switch change {
        case .switched(let resolved):
            versions.root(path: root, resolved: resolved, at: now)
            metrics.config.rootSwitched()
            logger.notice(
                "root: new requests are served from another directory; running transfers keep their files",
                metadata: ["root": "\(root)", "resolved": "\(resolved)"])
        case .unreachable(let error):
            let reason = String(cString: strerror(error))
            versions.root(path: root, resolved: nil, unreachable: reason, at: now)
            logger.warning(
                "root: the path leads nowhere now; the directory it led to keeps serving",
                metadata: ["root": "\(root)", "error": "\(reason)"])
        }
    }
}
