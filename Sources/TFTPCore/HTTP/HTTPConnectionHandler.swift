import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP connection, the only handler in its pipeline: it reads, and performs what its
/// collaborators decide. Bytes go to ``HTTPRequestParser`` (pure); each head to
/// ``HTTPResponsePlanner`` (pure) for the checks and the path, to ``HTTPContentSelector`` for
/// what answers the path (the loop's cache, a machine's script, a file through the door, a
/// directory), and back to the planner for the response; the head and any body in memory go
/// out as one buffer, a larger body by ``HTTPBodyWriter``; ``HTTPRequestRecord`` tells of each
/// request once it is written. The connection's life (what is answered, what keeps it, when it
/// closes, what the timer means) is ``HTTPConnectionState``'s: every event there returns an
/// action that this handler performs. Pipelined requests are answered in order, as many as
/// the socket takes; their answers leave in one write per read.
final class HTTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    let configuration: HTTPConfiguration
    let cache: HTTPFileCache
    let selector: HTTPContentSelector
    let bodies: HTTPBodyWriter
    var reports: HTTPRequestRecord.Reports
    private var parser: HTTPRequestParser
    /// Bytes read and not yet parsed.
    var input: ByteBuffer?
    var state: HTTPConnectionState
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?
    private var context: ChannelHandlerContext?
    /// The client, for name rules that depend on it.
    var requester = Requester.unknown
    /// An answer waits for a file arriving from the origin: nothing further is answered.
    var awaitingArrival = false

    init(
        root: ContentRoot, configuration: HTTPConfiguration, cache: HTTPFileCache, logger: Logger,
        metrics: ServerMetrics, bodyReads: NIOThreadPool? = nil
    ) {
        self.configuration = configuration
        self.cache = cache
        selector = HTTPContentSelector(
            content: BootContent(
                root: root, names: configuration.nameResolver, machines: configuration.machines,
                origin: configuration.origin),
            cache: cache)
        bodies = HTTPBodyWriter(reads: bodyReads)
        reports = HTTPRequestRecord.Reports(
            logger: logger, logsRequests: logger.logLevel <= .info, metrics: metrics,
            machines: configuration.machines)
        parser = HTTPRequestParser(maxHeadBytes: configuration.maxHeaderBytes)
        state = HTTPConnectionState(
            headerTimeout: configuration.headerTimeout, idleTimeout: configuration.idleTimeout,
            now: .uptimeNanoseconds(0))
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let peer = context.channel.remoteAddress.flatMap(PeerAddress.init)
        if configuration.filenameMap.dependsOnClient || configuration.nameResolver.dependsOnClient {
            requester = peer?.requester ?? .unknown
        }
        if configuration.machines != nil { reports.address = peer?.ipv4Address }
        perform(state.read(now: context.eventLoop.now), context: context)
        if context.channel.isActive { armTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(state.read(now: context.eventLoop.now), context: context)
        armTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(state.closed(), context: context)
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state.isOpen else { return }
        var bytes = unwrapInboundIn(data)
        perform(state.read(now: context.eventLoop.now), context: context)
        if input == nil || input?.readableBytes == 0 {
            input = bytes
        } else {
            input?.writeBuffer(&bytes)
        }
        if awaitingArrival, (input?.readableBytes ?? 0) > configuration.maxHeaderBytes {
            // A client that pipelines while its answer waits for the origin: read no more
            // until the answer is written.
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        }
        process(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { perform(state.socketWritable(), context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Graceful shutdown: a connection with nothing watched in flight closes once what is
    /// written is out; a busy one answers what it has read with `Connection: close`.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        let action = state.quiesce()
        if action == .none, state.isOpen {
            reports.logger.debug(
                "http: connection ends after its answers in flight",
                metadata: ["client": "\(context.channel.remoteAddress?.display ?? "?")"])
        }
        perform(action, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(state.closed(), context: context)
        context.close(promise: nil)
    }

    // MARK: - Performing

    /// Does what the state decided.
    func perform(_ action: HTTPConnectionState.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .answer:
            break
        case .stopReading:
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        case .resumeReading:
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            process(context: context)
            perform(state.settle(), context: context)
        case .schedule(let due):
            // The pending check may be a later one (the idle deadline): bring it forward.
            if let pending = timerDue, pending > due { cancelTimer() }
            armTimer()
        case .refuseSlowHead:
            reject(.requestTimeout, reason: "head not complete in time", context: context)
        case .closeAfterWrites:
            // An empty write completes after every write queued before it, so no answer
            // behind a finished body is cut off.
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        case .close:
            context.close(promise: nil)
        }
    }

    /// Answers every complete request in the input, in order, while the socket takes more.
    func process(context: ChannelHandlerContext) {
        guard !awaitingArrival, var buffer = input else { return }
        input = nil
        var wrote = false
        while state.isOpen && context.channel.isWritable {
            switch parser.next(&buffer) {
            case .request(let head):
                wrote = true
                guard respond(to: head, context: context) else {
                    // The answer waits for a file from the origin; what follows waits for it.
                    if buffer.readableBytes > 0 { input = buffer }
                    context.flush()
                    return
                }
            case .needMore:
                perform(
                    state.parsed(headInProgress: parser.isInsideHead(buffer), now: context.eventLoop.now),
                    context: context)
                if buffer.readableBytes > 0 {
                    buffer.discardReadBytes()
                    input = buffer
                }
                if wrote { context.flush() }
                return
            case .failure(let failure):
                reject(failure.status, reason: "\(failure)", context: context)
                return
            }
        }
        if state.isOpen, buffer.readableBytes > 0 {
            // The socket takes no more answers: stop reading until it does, so a client that
            // pipelines without reading cannot make the input grow.
            input = buffer
            perform(state.socketFull(), context: context)
        }
        if wrote { context.flush() }
    }

    // MARK: - The timer

    /// One scheduled check at a time; requests only move the deadlines it reads, so a busy
    /// keep-alive connection does not schedule and cancel a task per request.
    private func armTimer() {
        guard timer == nil, let context, state.isOpen else { return }
        let due = state.deadline(now: context.eventLoop.now)
        timerDue = due
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            timer = nil
            timerDue = nil
            guard let context = self.context else { return }
            let action = state.timerFired(now: context.eventLoop.now)
            if case .schedule = action { armTimer() } else { perform(action, context: context) }
        }
    }

    func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDue = nil
    }
}
