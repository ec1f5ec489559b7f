import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP/1.1 sibling: serves the same root through the same door, GET and HEAD only, on
/// plain listeners (`--http`) and on TLS ones (`--https`, secured by the configuration's
/// ``HTTPListenerSecurity``). A `Service`: on graceful shutdown it stops accepting, lets
/// responses in flight finish (idle keep-alive connections are closed at once, the others
/// after their response) for up to the grace period, then closes what is left.
public struct HTTPFileServer: Service {
    public let configuration: HTTPConfiguration
    private let root: ContentRoot
    private let logger: Logger
    private let group: any EventLoopGroup
    private let metrics: ServerMetrics
    private let onListening: @Sendable ([SocketAddress]) async throws -> Void

    /// - Parameter onListening: awaited once every listener is bound and before the first
    ///   connection is accepted (the daemon drops privileges there); throwing ends `run()`.
    public init(
        configuration: HTTPConfiguration,
        root: ContentRoot,
        logger: Logger,
        metrics: ServerMetrics = ServerMetrics(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.root = root
        self.logger = logger
        self.metrics = metrics
        self.group = group
        self.onListening = onListening
    }

    /// The open connections, for the connection limit and for shutdown.
    private final class Connections: Sendable {
        private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        /// Told each time a connection goes, so shutdown can wait for the last one.
        private let departures: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) =
            AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))

        /// Registers a connection, or refuses it when `limit` are open.
        func admit(_ channel: any Channel, limit: Int) -> Bool {
            channels.withLockedValue { open in
                guard open.count < limit else { return false }
                open[ObjectIdentifier(channel)] = channel
                return true
            }
        }

        func remove(_ channel: any Channel) {
            _ = channels.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
            departures.continuation.yield()
        }

        /// Returns once no connection is open, or when the task is cancelled.
        func drained() async {
            if all.isEmpty { return }
            for await _ in departures.stream where all.isEmpty { return }
        }

        var all: [any Channel] { channels.withLockedValue { Array($0.values) } }
    }

    public func run() async throws {
        // Bodies on TLS connections are read here, off the event loops.
        let reads: NIOThreadPool? = configuration.secureListen.isEmpty ? nil : NIOThreadPool(numberOfThreads: 2)
        reads?.start()
        do {
            try await serve(reads: reads)
        } catch {
            try? await reads?.shutdownGracefully()
            throw error
        }
        try? await reads?.shutdownGracefully()
    }

    private func serve(reads: NIOThreadPool?) async throws {
        let connections = Connections()
        let caches = makeCaches()
        var listeners: [any Channel] = []
        do {
            for address in configuration.listen {
                listeners.append(try await bind(address, secure: nil, connections: connections, caches: caches))
            }
            if let security = configuration.security, let reads {
                for address in configuration.secureListen {
                    listeners.append(
                        try await bind(
                            address, secure: (security, reads), connections: connections, caches: caches))
                }
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        let addresses = listeners.compactMap(\.localAddress)
        for (index, address) in addresses.enumerated() {
            let kind = index < configuration.listen.count ? "http" : "https"
            logger.info("accepting \(kind) connections", metadata: ["address": "\(address.display)"])
        }
        do {
            try await onListening(addresses)
            // Accepting starts only now: no connection is served before privileges are dropped.
            for listener in listeners { try await listener.setOption(.autoRead, value: true).get() }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        // Runs until shutdown: graceful (SIGTERM) or cancellation.
        try? await gracefulShutdown()
        logger.notice("http: shutting down", metadata: ["connections": "\(connections.all.count)"])
        for listener in listeners { try? await listener.close() }
        for connection in connections.all {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        // Whichever comes first: the last connection closing, the grace period, cancellation.
        await withTaskGroup(of: Void.self) { waits in
            waits.addTask { await connections.drained() }
            waits.addTask { [grace = configuration.gracePeriod] in
                try? await Task.sleep(for: .nanoseconds(grace.nanoseconds))
            }
            await waits.next()
            waits.cancelAll()
        }
        for connection in connections.all { try? await connection.close() }
    }

    private func bind(
        _ address: ListenAddress, secure: (HTTPListenerSecurity, NIOThreadPool)?, connections: Connections,
        caches: [ObjectIdentifier: HTTPFileCache]
    ) async throws -> any Channel {
        let configuration = configuration
        let root = root
        let logger = logger
        let metrics = metrics
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // One read per readiness: a second would only find the socket empty (a wasted
            // system call per request on a keep-alive connection).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel, limit: configuration.maxConnections) else {
                    logger.warning(
                        "http: connection limit reached",
                        metadata: ["client": "\(channel.remoteAddress?.display ?? "?")"])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let cache =
                        caches[ObjectIdentifier(channel.eventLoop)] ?? HTTPFileCache(eventLoop: channel.eventLoop)
                    if let (security, _) = secure { try security.secure(channel) }
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPConnectionHandler(
                            root: root, configuration: configuration, cache: cache, logger: logger, metrics: metrics,
                            bodyReads: secure?.1))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }

    /// One file cache per event loop, touched only from its loop.
    private func makeCaches() -> [ObjectIdentifier: HTTPFileCache] {
        var caches: [ObjectIdentifier: HTTPFileCache] = [:]
        for loop in group.makeIterator() {
            caches[ObjectIdentifier(loop)] = HTTPFileCache(eventLoop: loop)
        }
        return caches
    }
}
