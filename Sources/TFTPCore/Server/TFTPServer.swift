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
    private let onListening: @Sendable ([SocketAddress]) -> Void

    /// Opens the root (failing early when it cannot be used), or shares `root` with the
    /// HTTP listener so both serve through the same door.
    /// - Parameter onListening: called once every listener is bound, with their addresses
    ///   (port 0 in the configuration becomes the real port here).
    public init(
        configuration: ServerConfiguration,
        root: ContentRoot? = nil,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.root = try root ?? ContentRoot(path: configuration.root, policy: configuration.contentPolicy)
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    private typealias Listener = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    /// A request admitted by a listener, waiting for its task.
    private struct Admitted: Sendable {
        var request: Request
        var client: SocketAddress
        var local: ListenAddress
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

        init(maxTransfers: Int, maxPerClient: Int) {
            state = NIOLockedValueBox(State(table: TransferTable(maxTransfers: maxTransfers, maxPerHost: maxPerClient)))
        }

        func admit(_ client: SocketAddress) -> TransferTable<SocketAddress, String>.Admission {
            state.withLockedValue { $0.table.admit(client, host: client.ipAddress ?? "") }
        }

        func release(_ client: SocketAddress) {
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
        let registry = Registry(maxTransfers: configuration.maxTransfers, maxPerClient: configuration.maxPerClient)
        var bindings: [(Listener, ListenAddress)] = []
        for address in configuration.listen {
            bindings.append((try await bind(address), address))
        }
        let listeners = bindings
        registry.state.withLockedValue { $0.listeners = listeners.map { $0.0.channel } }
        let bound = listeners.compactMap { $0.0.channel.localAddress }
        for address in bound {
            logger.info("listening", metadata: ["address": "\(address.display)", "root": "\(configuration.root)"])
        }
        onListening(bound)

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                let (admitted, continuation) = AsyncStream.makeStream(of: Admitted.self)
                group.addTask {
                    await withDiscardingTaskGroup { listenerGroup in
                        for (listener, address) in listeners {
                            listenerGroup.addTask {
                                await self.listen(
                                    listener, address: address, registry: registry, admitted: continuation)
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

    private func bind(_ address: ListenAddress) async throws -> Listener {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .bind(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Listener(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Reads the listening socket until it closes: each datagram gets the pure
    /// ``ListenerDecision``, then admission by the registry.
    private func listen(
        _ listener: Listener,
        address: ListenAddress,
        registry: Registry,
        admitted: AsyncStream<Admitted>.Continuation
    ) async {
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
                        reply = packet
                    case .startTransfer(let request):
                        switch registry.admit(client) {
                        case .admitted:
                            admitted.yield(Admitted(request: request, client: client, local: address))
                        case .duplicate:
                            logger.debug("repeated request ignored", metadata: ["client": "\(client.display)"])
                        case .full:
                            logger.notice("transfer limit reached", metadata: ["client": "\(client.display)"])
                            reply = .error(code: .notDefined, message: "Server busy, try again later")
                        case .hostLimit:
                            logger.notice("per-client limit reached", metadata: ["client": "\(client.display)"])
                            reply = .error(code: .notDefined, message: "Too many transfers from your address")
                        case .shuttingDown:
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
            logger.debug("listener ended", metadata: ["address": "\(address)", "error": "\(error)"])
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

    /// One transfer: open the content through the one door, bind a fresh port (the TID)
    /// on the listener's address, and await the handler's report and the duration; `nil`
    /// when the transfer could not run at all (already logged).
    private func runTransfer(_ admitted: Admitted) async -> (report: TransferHandler.Report, duration: TimeAmount)? {
        let started = NIODeadline.now()
        let request = admitted.request
        let content: Result<ContentReader, ContentError> = Result { () throws(ContentError) in
            let path = try RequestPath(request.filename)
            let file = try root.open(path)
            return try ContentReader.make(file, mode: request.mode)
        }
        let machine = ServerTransfer(request: request, configuration: configuration.transfer)
        let loop = group.next()
        let completion = loop.makePromise(of: TransferHandler.Report.self)
        let client = admitted.client
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: loop)
                // One datagram per readiness event: a transfer socket has at most one ACK
                // waiting, and a second recvmsg would only say EAGAIN (epoll is level-triggered).
                .channelOption(.maxMessagesPerRead, value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = TransferHandler(
                            machine: machine,
                            content: content,
                            client: client,
                            completion: completion
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .bind(host: admitted.local.host, port: 0)
                .get()
        } catch {
            completion.fail(error)
            logger.error(
                "cannot bind a transfer socket", metadata: ["client": "\(client.display)", "error": "\(error)"])
            return nil
        }
        let grace = configuration.gracePeriod
        let report: TransferHandler.Report
        do {
            report = try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await completion.futureResult.get()
                } onGracefulShutdown: {
                    channel.pipeline.fireUserInboundEventTriggered(TransferHandler.Command.shutdown(grace: grace))
                }
            } onCancel: {
                channel.pipeline.fireUserInboundEventTriggered(TransferHandler.Command.abort)
            }
        } catch {
            logger.error("transfer failed", metadata: ["client": "\(client.display)", "error": "\(error)"])
            channel.close(promise: nil)
            return nil
        }
        // The handler closed its channel when it finished; no need to wait for that here.
        return (report, .now() - started)
    }

    /// The one line per transfer (DESIGN "Errors and logs").
    private func log(
        _ result: (report: TransferHandler.Report, duration: TimeAmount), request: Request, client: SocketAddress
    ) {
        let (report, duration) = result
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
