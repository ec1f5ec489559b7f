import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The TFTP server: listens on every configured address and runs one child task per
/// transfer in a structured task group (DESIGN "Concurrency"). A `Service`, so a
/// `ServiceGroup` gives it SIGTERM/SIGINT: on graceful shutdown it refuses new requests
/// with an ERROR, lets running transfers finish within the grace period, ends the rest
/// with an ERROR, and returns once the last one is gone. Cancellation ends them at once.
public struct TFTPServer: Service {
    public let configuration: ServerConfiguration
    private let root: ContentRoot
    private let logger: Logger
    private let group: any EventLoopGroup
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
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.root = try root ?? ContentRoot(path: configuration.root, policy: configuration.contentPolicy)
        self.logger = logger
        self.metrics = metrics
        self.group = group
        self.onListening = onListening
    }

    private typealias Listener = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    private typealias Outbound = NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>

    /// A bound listening socket.
    private struct BoundListener: Sendable {
        var channel: Listener
        /// Its address with the real port: transfer sockets bind to the same IP.
        var local: SocketAddress
        /// Single-port mode: the router of the client's datagrams to their transfers.
        var demultiplexer: NIOLoopBound<SinglePortDemultiplexer>?
        /// The MTU blksize is fitted to, when ``ServerConfiguration/fitBlockSizeToMTU``.
        var mtu: Int?
    }

    /// A request admitted by a listener, waiting for its task.
    private struct Admitted: Sendable {
        var request: Request
        var client: SocketAddress
        var listener: BoundListener
        /// The listener's writer, for an ERROR when no transfer socket can be had.
        var outbound: Outbound
    }

    /// Shared between listeners and transfer tasks: who runs, and the listeners to close
    /// once a shutdown has drained. Behind NIO's pthread-based lock rather than
    /// `Synchronization.Mutex`, whose futex ThreadSanitizer does not see as synchronization
    /// (it reported false races here).
    private final class Registry: Sendable {
        struct State {
            var table: TransferTable<SocketAddress, String>
            var listeners: [any Channel] = []
        }
        let state: NIOLockedValueBox<State>
        let metrics: ServerMetrics

        init(maxTransfers: Int, maxPerClient: Int, metrics: ServerMetrics) {
            state = NIOLockedValueBox(State(table: TransferTable(maxTransfers: maxTransfers, maxPerHost: maxPerClient)))
            self.metrics = metrics
        }

        func admit(_ client: SocketAddress) -> TransferTable<SocketAddress, String>.Admission {
            let admission = state.withLockedValue { $0.table.admit(client, host: client.ipAddress ?? "") }
            if case .admitted = admission { metrics.transferStarted() }
            return admission
        }

        func release(_ client: SocketAddress) {
            defer { metrics.transferEnded() }
            let toClose = state.withLockedValue { state -> [any Channel] in
                state.table.release(client, host: client.ipAddress ?? "") ? state.listeners : []
            }
            for channel in toClose { channel.close(promise: nil) }
        }

        /// Returns how many transfers are still running.
        func beginShutdown() -> Int {
            let (toClose, running) = state.withLockedValue { state -> ([any Channel], Int) in
                (state.table.beginShutdown() ? state.listeners : [], state.table.count)
            }
            for channel in toClose { channel.close(promise: nil) }
            return running
        }
    }

    public func run() async throws {
        let metrics = metrics
        let registry = Registry(
            maxTransfers: configuration.maxTransfers, maxPerClient: configuration.maxPerClient, metrics: metrics)
        var bindings: [BoundListener] = []
        do {
            for socket in configuration.inheritedSockets {
                bindings.append(try await bind(inherited: socket))
            }
            for address in configuration.listen {
                bindings.append(try await bind(address))
            }
        } catch {
            for listener in bindings { try? await listener.channel.channel.close() }
            throw error
        }
        let listeners = bindings
        registry.state.withLockedValue { $0.listeners = listeners.map(\.channel.channel) }
        let bound = listeners.map(\.local)
        for listener in listeners {
            var metadata: Logger.Metadata = [
                "address": "\(listener.local.display)", "root": "\(configuration.root)",
                "max_blksize": "\(configuration.transfer.limits.maxBlockSize)",
            ]
            if let mtu = listener.mtu {
                metadata["mtu"] = "\(mtu)"
                metadata["max_blksize"] = "\(min(configuration.transfer.limits.maxBlockSize, mtu - 32))"
            }
            if listener.demultiplexer != nil { metadata["mode"] = "single-port" }
            if let range = configuration.portRange { metadata["ports"] = "\(range.lowerBound):\(range.upperBound)" }
            logger.info("listening", metadata: metadata)
        }
        do {
            try await onListening(bound)
        } catch {
            for listener in listeners { try? await listener.channel.channel.close() }
            throw error
        }

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                let (admitted, continuation) = AsyncStream.makeStream(of: Admitted.self)
                group.addTask {
                    await withDiscardingTaskGroup { listenerGroup in
                        for listener in listeners {
                            listenerGroup.addTask {
                                await self.listen(listener, registry: registry, admitted: continuation)
                            }
                        }
                    }
                    continuation.finish()
                }
                for await transfer in admitted {
                    group.addTask {
                        let report = await self.runTransfer(transfer)
                        // The slot is free before the line is written, so a reader of the log
                        // (an operator, a test) never sees a finished transfer still counted.
                        registry.release(transfer.client)
                        if let report {
                            self.log(report, request: transfer.request, client: transfer.client)
                        }
                    }
                }
            }
        } onGracefulShutdown: { [logger, grace = configuration.gracePeriod] in
            let running = registry.beginShutdown()
            logger.notice(
                "shutting down: refusing new requests",
                metadata: ["running": "\(running)", "grace_s": "\(grace.nanoseconds / 1_000_000_000)"]
            )
        }
        logger.info("stopped")
    }

    private func bind(_ address: ListenAddress) async throws -> BoundListener {
        let singlePort = configuration.singlePort
        let (channel, demultiplexer) = try await listenerBootstrap()
            .bind(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture { try Self.wrap(channel, singlePort: singlePort) }
            }
        guard let local = channel.channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        return BoundListener(channel: channel, local: local, demultiplexer: demultiplexer, mtu: mtu(of: local))
    }

    /// A UDP socket handed over by systemd (socket activation), already bound.
    private func bind(inherited socket: CInt) async throws -> BoundListener {
        let singlePort = configuration.singlePort
        let loop = group.next()
        let wrapped = loop.makePromise(of: (Listener, NIOLoopBound<SinglePortDemultiplexer>?).self)
        // The future-based call: the async withBoundSocket(_:channelInitializer:) of NIO
        // 2.101 fails with "operation unsupported" for an inherited datagram socket.
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        wrapped.succeed(try Self.wrap(channel, singlePort: singlePort))
                    }
                }
                .withBoundSocket(socket)
                .get()
        } catch {
            wrapped.fail(error)
            throw error
        }
        let (listener, demultiplexer) = try await wrapped.futureResult.get()
        guard let local = channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        return BoundListener(channel: listener, local: local, demultiplexer: demultiplexer, mtu: mtu(of: local))
    }

    private func mtu(of local: SocketAddress) -> Int? {
        configuration.fitBlockSizeToMTU ? InterfaceMTU.forListener(local) ?? 1500 : nil
    }

    private func listenerBootstrap() -> DatagramBootstrap {
        DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
    }

    private static func wrap(
        _ channel: any Channel, singlePort: Bool
    ) throws -> (Listener, NIOLoopBound<SinglePortDemultiplexer>?) {
        var bound: NIOLoopBound<SinglePortDemultiplexer>?
        if singlePort {
            let demultiplexer = SinglePortDemultiplexer()
            try channel.pipeline.syncOperations.addHandler(demultiplexer)
            bound = NIOLoopBound(demultiplexer, eventLoop: channel.eventLoop)
        }
        return (try Listener(wrappingChannelSynchronously: channel), bound)
    }

    /// Reads the listening socket until it closes: each datagram gets the pure
    /// ``ListenerDecision``, then admission by the registry.
    private func listen(
        _ bound: BoundListener,
        registry: Registry,
        admitted: AsyncStream<Admitted>.Continuation
    ) async {
        let listener = bound.channel
        do {
            try await listener.executeThenClose { inbound, outbound in
                for try await envelope in inbound {
                    let client = envelope.remoteAddress
                    guard Self.isAcceptableSource(client) else { continue }
                    let decoded = Packet.decode(envelope.data)
                    var reply: Packet?
                    switch ListenerDecision.decide(decoded) {
                    case .ignore:
                        logger.debug("ignored datagram", metadata: ["client": "\(client.display)"])
                    case .reply(let packet):
                        logger.info("refused request", metadata: ["client": "\(client.display)", "reply": "\(packet)"])
                        if case .success(.writeRequest) = decoded {
                            metrics.requestRejected("write-request")
                        } else {
                            metrics.requestRejected("malformed")
                        }
                        reply = packet
                    case .startTransfer(let request):
                        switch registry.admit(client) {
                        case .admitted:
                            admitted.yield(
                                Admitted(request: request, client: client, listener: bound, outbound: outbound))
                        case .duplicate:
                            logger.debug("repeated request ignored", metadata: ["client": "\(client.display)"])
                        case .full:
                            logger.notice("transfer limit reached", metadata: ["client": "\(client.display)"])
                            metrics.requestRejected("busy")
                            reply = .error(code: .notDefined, message: "Server busy, try again later")
                        case .hostLimit:
                            logger.notice("per-client limit reached", metadata: ["client": "\(client.display)"])
                            metrics.requestRejected("per-client-limit")
                            reply = .error(code: .notDefined, message: "Too many transfers from your address")
                        case .shuttingDown:
                            metrics.requestRejected("shutting-down")
                            reply = .error(code: .notDefined, message: "Server shutting down")
                        }
                    }
                    if let reply {
                        let buffer = reply.encoded(allocator: listener.channel.allocator)
                        try? await outbound.write(AddressedEnvelope(remoteAddress: client, data: buffer))
                    }
                }
            }
        } catch {
            logger.debug("listener ended", metadata: ["address": "\(bound.local.display)", "error": "\(error)"])
        }
    }

    /// A source port of 0, or a broadcast or multicast source, cannot be a client: such
    /// datagrams are dropped unanswered (no reflection).
    static func isAcceptableSource(_ address: SocketAddress) -> Bool {
        guard let port = address.port, port != 0 else { return false }
        switch address {
        case .v4(let v4):
            let ip = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return ip != 0xFFFF_FFFF && ip >> 28 != 0xE
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { $0.first != 0xFF }
        case .unixDomainSocket:
            return false
        }
    }

    /// One transfer: open the content through the one door, get a transfer socket (a fresh
    /// port, one from `--port-range`, or in single-port mode the listener's own socket),
    /// and await the session's report and the duration; `nil` when the transfer could not
    /// run at all (already logged).
    private func runTransfer(_ admitted: Admitted) async -> (report: TransferSession.Report, duration: TimeAmount)? {
        let started = NIODeadline.now()
        let request = admitted.request
        let map = configuration.filenameMap
        let content: Result<ContentReader, ContentError> = Result { () throws(ContentError) in
            let path = try RequestPath(map.apply(request.filename))
            let file = try root.open(path)
            return try ContentReader.make(file, mode: request.mode)
        }
        let client = admitted.client
        var transferConfiguration = configuration.transfer
        if let mtu = admitted.listener.mtu {
            transferConfiguration.limits.maxBlockSize = min(
                transferConfiguration.limits.maxBlockSize, InterfaceMTU.blockSize(mtu: mtu, client: client))
        }
        let machine = ServerTransfer(request: request, configuration: transferConfiguration)
        let completion: EventLoopPromise<TransferSession.Report>
        let command: @Sendable (TransferSession.Command) -> Void
        if let demultiplexer = admitted.listener.demultiplexer {
            let loop = demultiplexer.eventLoop
            completion = loop.makePromise()
            let attached = try? await loop.submit {
                let session = TransferSession(machine: machine, content: content, completion: completion)
                return demultiplexer.value.attach(session, client: client)
            }.get()
            guard attached == true else {
                completion.fail(ChannelError.ioOnClosedChannel)
                return nil
            }
            command = { command in loop.execute { demultiplexer.value.handle(command, for: client) } }
        } else {
            let loop = group.next()
            completion = loop.makePromise()
            let channel: any Channel
            do {
                channel = try await bindTransferSocket(
                    near: admitted.listener.local, on: loop,
                    machine: machine, content: content, client: client, completion: completion)
            } catch {
                completion.fail(error)
                logger.error(
                    "cannot bind a transfer socket", metadata: ["client": "\(client.display)", "error": "\(error)"])
                metrics.requestRejected("no-port")
                let reply = Packet.error(code: .notDefined, message: "No transfer port free, try again later")
                let buffer = reply.encoded(allocator: admitted.listener.channel.channel.allocator)
                try? await admitted.outbound.write(AddressedEnvelope(remoteAddress: client, data: buffer))
                return nil
            }
            command = { command in channel.pipeline.fireUserInboundEventTriggered(command) }
        }
        let grace = configuration.gracePeriod
        let report: TransferSession.Report
        do {
            report = try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await completion.futureResult.get()
                } onGracefulShutdown: {
                    command(.shutdown(grace: grace))
                }
            } onCancel: {
                command(.abort)
            }
        } catch {
            logger.error("transfer failed", metadata: ["client": "\(client.display)", "error": "\(error)"])
            return nil
        }
        // The session let go of its socket (or routing entry) when it finished.
        return (report, .now() - started)
    }

    /// Binds the transfer's own socket on the listener's IP: port 0 (the kernel picks), or
    /// a free port of `--port-range`, tried from a random start so that concurrent
    /// transfers rarely collide.
    private func bindTransferSocket(
        near local: SocketAddress,
        on loop: any EventLoop,
        machine: ServerTransfer,
        content: Result<ContentReader, ContentError>,
        client: SocketAddress,
        completion: EventLoopPromise<TransferSession.Report>
    ) async throws -> any Channel {
        let bootstrap = DatagramBootstrap(group: loop)
            // One datagram per readiness event: a transfer socket has at most one ACK
            // waiting, and a second recvmsg would only say EAGAIN (epoll is level-triggered).
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let session = TransferSession(machine: machine, content: content, completion: completion)
                    try channel.pipeline.syncOperations.addHandler(TransferHandler(session: session, client: client))
                }
            }
        var address = local
        guard let range = configuration.portRange else {
            address.port = 0
            return try await bootstrap.bind(to: address).get()
        }
        let count = range.count
        let first = Int.random(in: 0..<count)
        var lastError: any Error = IOError(errnoCode: EADDRINUSE, reason: "bind")
        for step in 0..<count {
            address.port = range.lowerBound + (first + step) % count
            do {
                return try await bootstrap.bind(to: address).get()
            } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EACCES {
                lastError = error
            }
        }
        throw lastError
    }

    /// The one line per transfer (DESIGN "Errors and logs").
    private func log(
        _ result: (report: TransferSession.Report, duration: TimeAmount), request: Request, client: SocketAddress
    ) {
        let (report, duration) = result
        metrics.record(
            report.outcome, bytes: report.statistics.bytesAcknowledged, retransmits: report.statistics.retransmits,
            nanoseconds: duration.nanoseconds)
        var metadata: Logger.Metadata = [
            "client": "\(client.display)",
            "file": "\(request.printableFilename)",
            "mode": "\(request.mode.rawValue)",
            "bytes": "\(report.statistics.bytesAcknowledged)",
            "duration_ms": "\(Double(duration.nanoseconds) / 1_000_000)",
            "retransmits": "\(report.statistics.retransmits)",
        ]
        if !request.options.isEmpty {
            metadata["requested"] = "\(request.options.map { "\($0.name)=\($0.value)" }.joined(separator: ","))"
            metadata["options"] =
                "\(report.options.acknowledged.map { "\($0.name)=\($0.value)" }.joined(separator: ","))"
        }
        let level: Logger.Level
        switch report.outcome {
        case .completed:
            metadata["outcome"] = "completed"
            level = .info
        case .sizeProbe:
            metadata["outcome"] = "size-probe"
            level = .info
        case .peerError(let code, let message):
            metadata["outcome"] = "client-error"
            metadata["error"] = "\(code.rawValue) \(message)"
            level = .notice
        case .refused(let code, let reason):
            metadata["outcome"] = "refused"
            metadata["error"] = "\(code.rawValue) \(reason)"
            level = .notice
        case .timedOut:
            metadata["outcome"] = "timed-out"
            level = .notice
        case .protocolViolation(let opcode):
            metadata["outcome"] = "protocol-violation"
            metadata["error"] = "\(opcode)"
            level = .notice
        case .readFailed(let error):
            metadata["outcome"] = "read-failed"
            metadata["error"] = "\(error)"
            level = .error
        case .aborted:
            metadata["outcome"] = "aborted"
            level = .notice
        }
        logger.log(level: level, "transfer", metadata: metadata)
    }
}
