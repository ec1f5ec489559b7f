import Glibc
import Logging
import NIOCore
import ServiceLifecycle

/// The TFTP server: binds every listen address once per engine thread, then runs the
/// ``DatagramEngine`` (docs/architecture.md). A `Service`, so a `ServiceGroup` gives it
/// SIGTERM/SIGINT: on graceful shutdown it refuses new requests with an ERROR, lets running
/// transfers finish within the grace period, ends the rest with an ERROR, and returns once
/// the last one is gone. Cancellation ends them at once.
public struct TFTPServer: Service {
    public let configuration: ServerConfiguration
    private let root: ContentRoot
    private let logger: Logger
    private let metrics: ServerMetrics
    private let onListening: @Sendable ([SocketAddress]) async throws -> Void

    /// Opens the root (failing early when it cannot be used), or shares `root` with the
    /// HTTP listener so both serve through the same door.
    /// - Parameter onListening: awaited once every listener is bound, with their addresses
    ///   (port 0 in the configuration becomes the real port here), before the first request
    ///   is read: the daemon drops privileges there. Throwing ends `run()`.
    public init(
        configuration: ServerConfiguration,
        root: ContentRoot? = nil,
        logger: Logger,
        metrics: ServerMetrics = ServerMetrics(),
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.root = try root ?? ContentRoot(path: configuration.root, policy: configuration.contentPolicy)
        self.logger = logger
        self.metrics = metrics
        self.onListening = onListening
    }

    public func run() async throws {
        let threadCount = max(1, configuration.threads)
        var perThread: [[EngineListener]] = Array(repeating: [], count: threadCount)
        var addresses: [(local: PeerAddress, mtu: Int?)] = []
        // The first thread's socket of each address's SO_REUSEPORT group (steering, ``EngineLoad``).
        // Never in single-port mode: there a client's ACKs reach the listening sockets too,
        // and steering them elsewhere would part them from their transfer's thread.
        var steered: [Int32] = []
        do {
            // A socket handed over by systemd cannot be cloned: one thread reads it.
            for (index, descriptor) in configuration.inheritedSockets.enumerated() {
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
                UDPSocket.growReceiveBuffer(descriptor, to: Self.listenerReceiveBuffer)
                let local = try UDPSocket.localAddress(descriptor)
                let listener = EngineListener(descriptor: descriptor, local: local, mtu: mtu(of: local))
                perThread[index % threadCount].append(listener)
                addresses.append((local, listener.mtu))
            }
            for address in configuration.listen {
                let (local, mtu, descriptors) = try bind(address, count: threadCount)
                if descriptors.count > 1 { steered.append(descriptors[0]) }
                for (thread, descriptor) in descriptors.enumerated() {
                    perThread[thread].append(EngineListener(descriptor: descriptor, local: local, mtu: mtu))
                }
                addresses.append((local, mtu))
            }
        } catch {
            for listeners in perThread { for listener in listeners { close(listener.descriptor) } }
            throw error
        }
        let used = perThread.filter { !$0.isEmpty }
        let poolCapacity = socketPoolCapacity(threads: used.count, listeners: addresses.count)
        DescriptorLimit.reserveTable(
            for: DescriptorLimit.needed(transfers: configuration.maxTransfers) + poolCapacity * used.count
                * addresses.count)
        // Everything the threads need exists before the first line says "listening", so a
        // reader of the log (an operator, a test counting descriptors) sees the server whole.
        let engine: DatagramEngine
        do {
            engine = try DatagramEngine(
                listeners: used,
                settings: EngineSettings(
                    transfer: configuration.transfer, filenameMap: configuration.filenameMap,
                    content: BootContent(
                        root: root, names: configuration.nameResolver, machines: configuration.machines,
                        origin: configuration.origin),
                    portRange: configuration.portRange, singlePort: configuration.singlePort,
                    logger: logger, metrics: metrics, readAheadBytes: configuration.readAheadBytes,
                    socketPoolCapacity: poolCapacity, board: configuration.board,
                    deferEveryRead: getenv("TFTPD_TEST_COLD_READS") != nil),
                maxTransfers: configuration.maxTransfers, maxPerClient: configuration.maxPerClient,
                adaptive: configuration.adaptiveThreads && !configuration.singlePort && used.count == threadCount,
                steered: steered)
        } catch {
            for listeners in perThread { for listener in listeners { close(listener.descriptor) } }
            throw error
        }
        for (local, mtu) in addresses {
            var metadata: Logger.Metadata = [
                "address": "\(local.display)", "root": "\(configuration.root)",
                "max_blksize": "\(configuration.transfer.limits.maxBlockSize)", "threads": "\(used.count)",
                "threads_active": "\(engine.load.adaptive ? "by load" : "all")",
            ]
            if let mtu {
                metadata["mtu"] = "\(mtu)"
                metadata["max_blksize"] = "\(min(configuration.transfer.limits.maxBlockSize, mtu - 32))"
            }
            if configuration.singlePort { metadata["mode"] = "single-port" }
            if let range = configuration.portRange { metadata["ports"] = "\(range.lowerBound):\(range.upperBound)" }
            logger.info("listening", metadata: metadata)
        }
        do {
            try await onListening(addresses.compactMap { $0.local.socketAddress })
        } catch {
            engine.discard()
            for listeners in perThread { for listener in listeners { close(listener.descriptor) } }
            throw error
        }
        configuration.board?.attach(engine)
        defer { configuration.board?.attach(nil) }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await engine.run()
            } onGracefulShutdown: { [logger, grace = configuration.gracePeriod] in
                let running = engine.beginShutdown(grace: grace)
                logger.notice(
                    "shutting down: refusing new requests",
                    metadata: ["running": "\(running)", "grace_s": "\(grace.nanoseconds / 1_000_000_000)"])
            }
        } onCancel: {
            engine.abort()
        }
        logger.info("stopped")
    }

    /// The receive buffer each listening socket asks for: 4 MiB, which the kernel doubles
    /// for its accounting. A queued RRQ costs about 830 bytes of it on loopback and 1–4 KiB
    /// behind a NIC driver, so a thread's listener holds a burst of 2,000–10,000 requests
    /// (a rack powered on at once, or a flood) instead of the default 212,992 bytes' 250;
    /// memory is only used while requests wait. Past `net.core.rmem_max` only as root.
    static let listenerReceiveBuffer: Int32 = 4 << 20

    /// Binds `count` sockets to one listen address with SO_REUSEPORT (the kernel spreads
    /// clients over them by address and port), the first one deciding the port when the
    /// address asks for port 0.
    private func bind(_ address: ListenAddress, count: Int) throws -> (PeerAddress, Int?, [Int32]) {
        guard let resolved = PeerAddress(try SocketAddress.makeAddressResolvingHost(address.host, port: address.port))
        else { throw UDPSocket.Failure(operation: "resolve \(address)", errno: EAFNOSUPPORT) }
        var local = resolved
        var descriptors: [Int32] = []
        do {
            for index in 0..<count {
                let descriptor = try UDPSocket.open(family: resolved.family)
                descriptors.append(descriptor)
                UDPSocket.growReceiveBuffer(descriptor, to: Self.listenerReceiveBuffer)
                if index == 0 && resolved.port == 0 {
                    // A port the kernel picks must be one nobody shares: with SO_REUSEADDR or
                    // SO_REUSEPORT set, it may hand out a port that another process of the
                    // same user already shares, and the two servers would split each other's
                    // requests. So the first socket binds without them and allows the
                    // others in afterwards (Linux accepts joining a socket whose
                    // SO_REUSEPORT was set after its bind).
                    try UDPSocket.bind(descriptor, to: local)
                    try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_REUSEADDR, 1)
                    try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_REUSEPORT, 1)
                } else {
                    try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_REUSEADDR, 1)
                    try UDPSocket.set(descriptor, level: SOL_SOCKET, option: SO_REUSEPORT, 1)
                    try UDPSocket.bind(descriptor, to: local)
                }
                if index == 0 { local = try UDPSocket.localAddress(descriptor) }
            }
        } catch {
            for descriptor in descriptors { close(descriptor) }
            throw error
        }
        return (local, mtu(of: local), descriptors)
    }

    /// Idle transfer sockets each thread may keep per listener: enough for a storm of small
    /// files at tens of thousands a second (rate × quarantine), within the descriptors left
    /// once every transfer has its two.
    private func socketPoolCapacity(threads: Int, listeners: Int) -> Int {
        let limit = DescriptorLimit.current ?? 1024
        let spare = limit - DescriptorLimit.needed(transfers: configuration.maxTransfers)
        return max(0, min(2048, spare / max(1, threads * listeners)))
    }

    private func mtu(of local: PeerAddress) -> Int? {
        guard configuration.fitBlockSizeToMTU else { return nil }
        return local.socketAddress.flatMap(InterfaceMTU.forListener) ?? 1500
    }
}
