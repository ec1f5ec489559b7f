import Logging
import NIOCore
import NIOHTTP1

/// How a connection answers a request: the planner's checks, the selector's choice, the
/// planner's response, written as one buffer (head and a body in memory) or a head and a body
/// from the file (``HTTPBodyWriter``); and the answer to a refused or slow head.
extension HTTPConnectionHandler {
    /// Answers one request; false when the answer waits for a file arriving from the origin
    /// (the connection reads nothing further until it is written).
    func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) -> Bool {
        let record = HTTPRequestRecord(
            head, remote: context.channel.remoteAddress, started: .now(), machines: reports.machines != nil)
        // A map that reads the client's address names different paths for different
        // clients: nothing to remember then.
        let remembers = !configuration.filenameMap.dependsOnClient
        let generation = configuration.filenameMap.generation
        let knownPath = remembers ? cache.path(forTarget: head.uri, generation: generation) : nil
        let planner = HTTPResponsePlanner(
            head: head, now: HTTPClock.now, maxTargetLength: configuration.maxTargetLength,
            filenameMap: configuration.filenameMap, client: requester, knownPath: knownPath)
        switch planner.preflight() {
        case .respond(let plan):
            write(plan, record: record, head: head, memory: nil, file: nil, context: context)
            return true
        case .serve(let path):
            if remembers, knownPath == nil { cache.remember(path, forTarget: head.uri, generation: generation) }
            let choice = selector.choose(path, client: requester, allocator: context.channel.allocator) {
                self.machine(record)
            }
            if case .arriving(let arriving) = choice {
                awaitArrival(arriving, planner: planner, path: path, record: record, head: head, context: context)
                return false
            }
            answer(choice, planner: planner, path: path, record: record, head: head, context: context)
            return true
        }
    }

    /// Writes the answer the selector's choice makes.
    private func answer(
        _ choice: HTTPContentSelector.Choice, planner: HTTPResponsePlanner, path: RequestPath,
        record: HTTPRequestRecord, head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        switch choice {
        case .small(let facts, let bytes):
            write(
                planner.plan(file: facts, path: path), record: record, head: head, memory: bytes, file: nil,
                context: context)
        case .script(let bytes):
            write(
                planner.generated(length: bytes.readableBytes), record: record, head: head, memory: bytes,
                file: nil, context: context)
        case .file(let file, let facts):
            write(
                planner.plan(file: facts, path: path), record: record, head: head, memory: nil, file: file,
                context: context)
        case .directory:
            write(
                directory(path, planner: planner), record: record, head: head, memory: nil, file: nil,
                context: context)
        case .refused(let error):
            if case .scriptFailed = error {
                reports.logger.error(
                    "machines: script not served",
                    metadata: ["client": "\(context.channel.remoteAddress?.display ?? "?")", "error": "\(error)"])
            }
            write(planner.refusal(error), record: record, head: head, memory: nil, file: nil, context: context)
        case .arriving(let arriving):
            awaitArrival(arriving, planner: planner, path: path, record: record, head: head, context: context)
        }
    }

    /// A file arriving from the origin is answered once it is complete (or failed): until
    /// then the connection reads no further request, and the wait counts as a body in flight
    /// (no idle close). HTTP clients of a cold file wait for the whole download; its digest
    /// is checked before the first byte goes (docs/fleet.md, "A cold file").
    private func awaitArrival(
        _ arriving: ArrivingFile, planner: HTTPResponsePlanner, path: RequestPath, record: HTTPRequestRecord,
        head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        awaitingArrival = true
        perform(state.bodyWatched(), context: context)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let settle: @Sendable () -> Void = {
            loop.execute {
                let (handler, context) = bound.value
                handler.arrivalSettled(
                    arriving, planner: planner, path: path, record: record, head: head, context: context)
            }
        }
        arriving.observe(settle)
        settle()
    }

    /// Looks at the arriving file again; answers once it is complete or failed.
    private func arrivalSettled(
        _ arriving: ArrivingFile, planner: HTTPResponsePlanner, path: RequestPath, record: HTTPRequestRecord,
        head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        guard awaitingArrival, state.isOpen || state.phase == .closing else { return }
        let choice: HTTPContentSelector.Choice
        switch arriving.state {
        case .waiting, .arriving: return
        case .failed(let error): choice = .refused(error)
        case .complete(let file): choice = selector.file(file, path: path, allocator: context.channel.allocator)
        }
        awaitingArrival = false
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        answer(choice, planner: planner, path: path, record: record, head: head, context: context)
        context.flush()
        perform(state.written(now: context.eventLoop.now, failed: false), context: context)
        process(context: context)
    }

    /// The machine asking, for its script: the hardware address iPXE put in the query
    /// (`?mac=${net0/mac}`, or the one the proxy wrote there), and what is known of the
    /// address the connection comes from.
    private func machine(_ record: HTTPRequestRecord) -> MachineIdentity {
        reports.machines?.registry.identity(address: reports.address, mac: record.mac) ?? MachineIdentity()
    }

    private func directory(_ path: RequestPath, planner: HTTPResponsePlanner) -> HTTPResponsePlan {
        switch planner.directory(path, listing: configuration.listing) {
        case .respond(let answer):
            return answer
        case .list:
            do {
                return planner.listing(
                    DirectoryListing.html(title: path.relativePath, entries: try selector.content.root.list(path)))
            } catch {
                return planner.refusal(error)
            }
        }
    }

    /// The head, with a body in memory in the same buffer, or a file body after it; the
    /// record once written (a last answer, or a file body, is watched).
    private func write(
        _ plan: HTTPResponsePlan, record: HTTPRequestRecord, head: HTTPRequestHead, memory: ByteBuffer?,
        file: ContentFile?, context: ChannelHandlerContext
    ) {
        guard case .answer(let keepAlive, let last) = state.answering(clientKeepsAlive: plan.keepAlive) else { return }
        var out = context.channel.allocator.buffer(
            capacity: 320 + (plan.bodyLength <= 65536 ? Int(plan.bodyLength) : 0))
        HTTPHeadSerializer.write(
            status: plan.status, headers: plan.headers, http10: head.version.minor == 0, keepAlive: keepAlive,
            into: &out)
        var fromFile: (ContentFile, Range<Int64>)?
        switch plan.body {
        case .none:
            break
        case .text(let text):
            out.writeString(text)
        case .file(let range):
            let length = Int(range.upperBound - range.lowerBound)
            if var slice = memory?.getSlice(at: (memory?.readerIndex ?? 0) + Int(range.lowerBound), length: length) {
                out.writeBuffer(&slice)
            } else if let file, length > 0 {
                fromFile = (file, range)
            }
        }
        let loop = context.eventLoop
        guard let (file, range) = fromFile else {
            if last {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).assumeIsolated().whenComplete {
                    [self] result in
                    perform(state.written(now: loop.now, failed: (try? result.get()) == nil), context: context)
                }
            } else {
                // Flushed once the read's requests are all answered (`process`).
                context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            }
            record.finish(status: plan.status, bodyBytes: plan.bodyLength, error: nil, to: reports)
            return
        }
        if !last { perform(state.bodyWatched(), context: context) }
        context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        bodies.write(file, range: range, context: context).assumeIsolated().whenComplete { [self] result in
            var failure: (any Error)?
            if case .failure(let error) = result { failure = error }
            record.finish(status: plan.status, bodyBytes: plan.bodyLength, error: failure, to: reports)
            perform(state.written(now: loop.now, failed: failure != nil), context: context)
        }
    }

    /// A refusal from the parser or a timeout: the answer, then the end of the connection.
    func reject(_ status: HTTPResponseStatus, reason: String, context: ChannelHandlerContext) {
        _ = state.refused()
        input = nil
        cancelTimer()
        let response = HTTPErrorResponse(status)
        reports.metrics.http.response(status, bodyBytes: Int64(response.text.utf8.count))
        if reports.logsRequests {
            reports.logger.info(
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
        let loop = context.eventLoop
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).assumeIsolated().whenComplete { [self] result in
            if state.written(now: loop.now, failed: (try? result.get()) == nil) != .none { context.close(promise: nil) }
        }
    }
}
