import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP connection, the only handler in its pipeline: bytes in through
/// ``HTTPRequestParser`` (pure), each request head to ``HTTPResponsePlanner`` (pure), files
/// only through ``RequestPath`` and ``ContentRoot`` (the door TFTP uses) or the loop's
/// ``HTTPFileCache``, and each answer out as one buffer (head and a small body together) or
/// a head and a sendfile region. Pipelined requests are answered in order, as many as the
/// socket takes; their answers leave in one write per read.
///
/// Its life (what is answered, what keeps the connection, when it closes, what the timer
/// means) is ``HTTPConnectionState``'s decision; every head goes out through
/// ``HTTPHeadSerializer``. It also bounds what a connection may cost: a head must arrive
/// within `headerTimeout` (else 408), an idle keep-alive connection closes after
/// `idleTimeout`, and the parser refuses heads over the size limit (414/431). No decision
/// about the protocol is made here.
final class HTTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    /// Bodies up to this size are copied into the response instead of sent with sendfile.
    static let copyLimit = HTTPFileCache.maxFileBytes

    private let root: ContentRoot
    private let configuration: HTTPConfiguration
    private let cache: HTTPFileCache
    private let logger: Logger
    private let metrics: ServerMetrics
    private let logsRequests: Bool
    private var parser: HTTPRequestParser
    /// Bytes read and not yet parsed.
    private var input: ByteBuffer?
    /// What is answered, what keeps the connection, when it closes.
    private var state: HTTPConnectionState
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?
    private var context: ChannelHandlerContext?
    /// The client, for name rules that depend on it.
    private var requester = Requester.unknown
    /// The client's IPv4 address, for the machines registry (`--machines`).
    private var clientAddress: IPv4Address?
    /// On a TLS connection: where large bodies are read, to be copied through the pipeline
    /// (sendfile cannot go through TLS). Nil: bodies go with sendfile.
    private let bodyReads: NIOThreadPool?
    /// Bytes read per chunk of a copied body.
    static let copyChunk = 256 * 1024

    init(
        root: ContentRoot, configuration: HTTPConfiguration, cache: HTTPFileCache, logger: Logger,
        metrics: ServerMetrics, bodyReads: NIOThreadPool? = nil
    ) {
        self.bodyReads = bodyReads
        self.root = root
        self.configuration = configuration
        self.cache = cache
        self.logger = logger
        self.logsRequests = logger.logLevel <= .info
        self.metrics = metrics
        self.parser = HTTPRequestParser(maxHeadBytes: configuration.maxHeaderBytes)
        self.state = HTTPConnectionState(
            headerTimeout: configuration.headerTimeout, idleTimeout: configuration.idleTimeout,
            now: .uptimeNanoseconds(0))
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if configuration.filenameMap.dependsOnClient || configuration.nameResolver.dependsOnClient {
            requester = context.channel.remoteAddress.flatMap(PeerAddress.init)?.requester ?? .unknown
        }
        if configuration.machines != nil {
            clientAddress = context.channel.remoteAddress.flatMap(PeerAddress.init)?.ipv4Address
        }
        state.read(now: context.eventLoop.now)
        if context.channel.isActive { armTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        state.read(now: context.eventLoop.now)
        armTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.closed()
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state.isOpen else { return }
        let bytes = unwrapInboundIn(data)
        state.read(now: context.eventLoop.now)
        if input == nil || input!.readableBytes == 0 {
            input = bytes
        } else {
            var incoming = bytes
            input!.writeBuffer(&incoming)
        }
        process(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, state.parked {
            // Reading stopped while the client did not take its answers (see `process`).
            state.unpark()
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            process(context: context)
            if state.settle() { closeAfterWrites(context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Graceful shutdown: a connection with nothing watched in flight closes once what is
    /// written is out; a busy one answers what it has read with `Connection: close`.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        if state.quiesce() {
            closeAfterWrites(context: context)
        } else if state.isOpen {
            logger.debug(
                "http: connection ends after its answers in flight",
                metadata: ["client": "\(context.channel.remoteAddress?.display ?? "?")"])
        }
    }

    /// Closes once everything written before is out: an empty write completes after every
    /// write queued before it, so no answer behind a finished body is cut off.
    private func closeAfterWrites(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state.closed()
        context.close(promise: nil)
    }

    // MARK: - Requests

    /// Answers every complete request in the input, in order, while the socket takes more.
    private func process(context: ChannelHandlerContext) {
        guard var buffer = input else { return }
        input = nil
        var wrote = false
        while state.isOpen && context.channel.isWritable {
            switch parser.next(&buffer) {
            case .request(let head):
                respond(to: head, context: context)
                wrote = true
            case .needMore:
                let now = context.eventLoop.now
                if state.headInProgress(parser.isInsideHead(buffer), now: now) {
                    // The pending check may be the idle one, further away: bring it forward.
                    if let due = timerDue, due > state.deadline(now: now) {
                        timer?.cancel()
                        timer = nil
                        armTimer()
                    }
                }
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
            state.park()
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        }
        if wrote { context.flush() }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let started = NIODeadline.now()
        // A map that reads the client's address names different paths for different
        // clients: nothing to remember then.
        let remembers = !configuration.filenameMap.dependsOnClient
        let generation = configuration.filenameMap.generation
        let knownPath = remembers ? cache.path(forTarget: head.uri, generation: generation) : nil
        let planner = HTTPResponsePlanner(
            head: head, now: HTTPClock.now, maxTargetLength: configuration.maxTargetLength,
            filenameMap: configuration.filenameMap, client: requester, knownPath: knownPath)
        var file: ContentFile?
        var content: ByteBuffer?
        var plan: HTTPResponsePlan
        switch planner.preflight() {
        case .respond(let answer):
            plan = answer
        case .serve(let path):
            if remembers, knownPath == nil { cache.remember(path, forTarget: head.uri, generation: generation) }
            if let machines = configuration.machines,
                let script = machines.script(for: path, machine: machine(of: head, machines: machines), root: root)
            {
                switch script {
                case .success(let bytes):
                    plan = planner.generated(length: bytes.readableBytes)
                    content = bytes
                case .failure(let error):
                    logger.error(
                        "machines: script not served",
                        metadata: ["client": "\(context.channel.remoteAddress?.display ?? "?")", "error": "\(error)"])
                    plan = planner.refusal(error)
                }
                break
            }
            // The cache knows files by the path asked for: only when that is the file served.
            let plainNames = configuration.nameResolver.isPlain
            if plainNames, let entry = cache.lookup(path, root: root) {
                plan = planner.plan(file: entry.facts, path: path)
                content = entry.content
            } else {
                do {
                    let opened = try configuration.nameResolver.open(path, client: requester, in: root)
                    let facts = HTTPResponsePlanner.FileFacts(
                        name: path.components.last ?? [], size: opened.size, modified: opened.modificationTime,
                        inode: opened.inode)
                    plan = planner.plan(file: facts, path: path)
                    file = opened
                    if opened.size <= Int64(Self.copyLimit), !path.hasTrailingSeparator {
                        var bytes = context.channel.allocator.buffer(capacity: Int(opened.size))
                        try opened.read(into: &bytes, offset: 0, length: Int(opened.size), verify: true)
                        if bytes.readableBytes == Int(opened.size) {
                            if plainNames {
                                cache.insert(path, identity: opened.identity, facts: facts, content: bytes)
                            }
                            content = bytes
                        }
                    }
                } catch .directory {
                    plan = directory(path, planner: planner)
                } catch {
                    plan = planner.refusal(error)
                }
            }
        }
        write(plan, to: head, content: content, file: file, started: started, context: context)
    }

    /// The machine asking, for its script: the hardware address iPXE put in the query
    /// (`?mac=${net0/mac}`, or the one the proxy wrote there), and what is known of the
    /// address the connection comes from.
    private func machine(of head: HTTPRequestHead, machines: MachineService) -> MachineIdentity {
        let mac = HTTPRequestTarget.queryValue("mac", in: head.uri).flatMap(MACAddress.init)
        return machines.registry.identity(address: clientAddress, mac: mac)
    }

    private func directory(_ path: RequestPath, planner: HTTPResponsePlanner) -> HTTPResponsePlan {
        switch planner.directory(path, listing: configuration.listing) {
        case .respond(let answer):
            return answer
        case .list:
            do {
                return planner.listing(DirectoryListing.html(title: path.relativePath, entries: try root.list(path)))
            } catch {
                return planner.refusal(error)
            }
        }
    }

    // MARK: - Writing

    private func write(
        _ plan: HTTPResponsePlan, to request: HTTPRequestHead, content: ByteBuffer?, file: ContentFile?,
        started: NIODeadline, context: ChannelHandlerContext
    ) {
        let (keepAlive, last) = state.answer(clientKeepsAlive: plan.keepAlive)
        var out = context.channel.allocator.buffer(
            capacity: 320 + (plan.bodyLength <= 65536 ? Int(plan.bodyLength) : 0))
        HTTPHeadSerializer.write(
            status: plan.status, headers: plan.headers, http10: request.version.minor == 0, keepAlive: keepAlive,
            into: &out)
        var sent: (file: ContentFile, range: Range<Int64>)?
        var copied: (file: ContentFile, range: Range<Int64>)?
        switch plan.body {
        case .none:
            break
        case .text(let text):
            out.writeString(text)
        case .file(let range):
            let length = Int(range.upperBound - range.lowerBound)
            if var content,
                let slice = content.getSlice(at: content.readerIndex + Int(range.lowerBound), length: length)
            {
                content = slice
                out.writeBuffer(&content)
            } else if let file, length > 0, bodyReads != nil {
                copied = (file, range)
            } else if let file, length > 0 {
                sent = (file, range)
            }
        }
        let body: EventLoopFuture<Void>
        if let sent {
            if !last { state.watch() }
            context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            body = sendFile(sent.file, range: sent.range, context: context)
        } else if let copied, let bodyReads {
            if !last { state.watch() }
            context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            body = copy(copied.file, range: copied.range, reads: bodyReads, context: context)
        } else {
            if last {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).assumeIsolated().whenComplete {
                    [self] result in
                    if state.written(now: context.eventLoop.now, failed: (try? result.get()) == nil) {
                        closeAfterWrites(context: context)
                    }
                }
            } else {
                context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            }
            finished(plan, request: request, started: started, error: nil, context: context)
            return
        }
        body.assumeIsolated().whenComplete { [self] result in
            var failure: (any Error)?
            if case .failure(let error) = result { failure = error }
            finished(plan, request: request, started: started, error: failure, context: context)
            if state.written(now: context.eventLoop.now, failed: failure != nil) { closeAfterWrites(context: context) }
        }
    }

    /// Bytes a sendfile region covers at most before the file is checked again.
    static let regionBytes: Int64 = 16 << 20

    /// Sends bytes `range` of `file` with sendfile, in regions of at most ``regionBytes``,
    /// the file checked between them; the last ``copyLimit`` bytes are read into memory and
    /// go only if the file is still the version that was opened once they are read, so a
    /// body rewritten in place under the response is never completed: the connection closes
    /// short of its Content-Length (docs/operations.md, "Rolling out content"). Succeeds
    /// when the last byte is written.
    private func sendFile(_ file: ContentFile, range: Range<Int64>, context: ChannelHandlerContext)
        -> EventLoopFuture<Void>
    {
        let loop = context.eventLoop
        let descriptor = dup(file.descriptor)
        guard descriptor >= 0 else { return loop.makeFailedFuture(ContentError.io(errno: errno)) }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let done = loop.makePromise(of: Void.self)
        done.futureResult.whenComplete { _ in try? handle.close() }
        let tail = max(range.lowerBound, range.upperBound - Int64(Self.copyLimit))
        func send(from offset: Int64) {
            if offset > range.lowerBound, !file.isUnchanged() { return done.fail(ContentError.changed) }
            guard offset < tail else {
                var last = context.channel.allocator.buffer(capacity: Int(range.upperBound - tail))
                do {
                    try file.read(into: &last, offset: tail, length: Int(range.upperBound - tail), verify: true)
                } catch {
                    return done.fail(error)
                }
                return context.writeAndFlush(wrapOutboundOut(.byteBuffer(last)), promise: done)
            }
            let end = min(offset + Self.regionBytes, tail)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(end))
            context.writeAndFlush(wrapOutboundOut(.fileRegion(region))).assumeIsolated().whenComplete { result in
                switch result {
                case .success: send(from: end)
                case .failure(let error): done.fail(error)
                }
            }
        }
        send(from: range.lowerBound)
        return done.futureResult
    }

    /// Sends bytes `range` of `file` as buffers, for a connection that cannot take sendfile
    /// (TLS): each chunk is read on `reads`, off the event loop, and the next one is read
    /// while the one before is written. Succeeds when the last chunk is written.
    private func copy(
        _ file: ContentFile, range: Range<Int64>, reads: NIOThreadPool, context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        let loop = context.eventLoop
        let allocator = context.channel.allocator
        let done = loop.makePromise(of: Void.self)
        func read(at offset: Int64) -> EventLoopFuture<ByteBuffer> {
            let length = Int(min(Int64(Self.copyChunk), range.upperBound - offset))
            // The last chunk goes only if the file is still the version that was opened.
            let verify = offset + Int64(length) >= range.upperBound
            return reads.runIfActive(eventLoop: loop) {
                var buffer = allocator.buffer(capacity: length)
                try file.read(into: &buffer, offset: offset, length: length, verify: verify)
                guard buffer.readableBytes == length else { throw ContentError.io(errno: EIO) }
                return buffer
            }
        }
        func send(_ chunk: EventLoopFuture<ByteBuffer>, at offset: Int64) {
            chunk.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    done.fail(error)
                case .success(let bytes):
                    let next = offset + Int64(bytes.readableBytes)
                    let ahead = next < range.upperBound ? read(at: next) : nil
                    context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete {
                        written in
                        switch written {
                        case .failure(let error): done.fail(error)
                        case .success:
                            if let ahead { send(ahead, at: next) } else { done.succeed() }
                        }
                    }
                }
            }
        }
        send(read(at: range.lowerBound), at: range.lowerBound)
        return done.futureResult
    }

    /// The one access-log line per request, and its count.
    private func finished(
        _ plan: HTTPResponsePlan, request: HTTPRequestHead, started: NIODeadline, error: (any Error)?,
        context: ChannelHandlerContext
    ) {
        metrics.httpResponse(status: plan.status.code, bodyBytes: plan.bodyLength)
        if let machines = configuration.machines, let clientAddress {
            machines.registry.record(
                MachineEvent(
                    at: MachineRegistry.now, kind: .http,
                    subject: "\(request.method.rawValue) \(request.uri.prefix(200))",
                    result: "\(plan.status.code)", succeeded: error == nil && plan.status.code < 400),
                address: clientAddress,
                mac: HTTPRequestTarget.queryValue("mac", in: request.uri).flatMap(MACAddress.init))
        }
        guard logsRequests else { return }
        var metadata: Logger.Metadata = [
            "client": "\(context.channel.remoteAddress?.display ?? "?")",
            "method": "\(request.method.rawValue)",
            "target": "\(request.uri.prefix(256))",
            "status": "\(plan.status.code)",
            "bytes": "\(plan.bodyLength)",
            "duration_ms": "\(Double((NIODeadline.now() - started).nanoseconds / 10_000) / 100)",
        ]
        if let error { metadata["error"] = "\(error)" }
        if let range = request.headers.first(name: "range") { metadata["range"] = "\(range.prefix(64))" }
        logger.info("request", metadata: metadata)
    }

    /// A refusal from the parser or a timeout: the answer, then the end of the connection.
    private func reject(_ status: HTTPResponseStatus, reason: String, context: ChannelHandlerContext) {
        state.refuse()
        input = nil
        timer?.cancel()
        timer = nil
        let response = HTTPErrorResponse(status)
        metrics.httpResponse(status: status.code, bodyBytes: Int64(response.text.utf8.count))
        if logsRequests {
            logger.info(
                "request",
                metadata: [
                    "client": "\(context.channel.remoteAddress?.display ?? "?")", "status": "\(status.code)",
                    "error": "\(reason)",
                ])
        }
        var out = context.channel.allocator.buffer(capacity: 256)
        HTTPHeadSerializer.write(
            status: status, headers: response.headers(now: HTTPClock.now), http10: false, keepAlive: false, into: &out)
        out.writeString(response.text)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).assumeIsolated().whenComplete { [self] result in
            if state.written(now: context.eventLoop.now, failed: (try? result.get()) == nil) {
                context.close(promise: nil)
            }
        }
    }

    // MARK: - Timeouts

    /// One scheduled check at a time; requests only move the deadlines it reads, so a busy
    /// keep-alive connection does not schedule and cancel a task per request.
    private func armTimer() {
        guard timer == nil, let context, state.isOpen else { return }
        let due = state.deadline(now: context.eventLoop.now)
        timerDue = due
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            timer = nil
            timerDue = nil
            check()
        }
    }

    private func check() {
        guard let context else { return }
        switch state.check(now: context.eventLoop.now) {
        case .headTimedOut:
            reject(.requestTimeout, reason: "head not complete in time", context: context)
        case .close:
            context.close(promise: nil)
        case .again:
            armTimer()
        case .nothing:
            break
        }
    }
}
