import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Answers GET and HEAD from the root: asks ``HTTPResponsePlanner`` what to send,
/// opens files only through ``RequestPath`` and ``ContentRoot`` (the door TFTP uses),
/// and sends bodies with sendfile (a `FileRegion` on a duplicate of the descriptor).
/// No HTTP decisions here. Pipelined requests are queued by NIO's
/// `HTTPServerPipelineHandler` in front of it, so one request is answered at a time.
final class HTTPFileHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Pending {
        var head: HTTPRequestHead
        var plan: HTTPResponsePlan
        var file: ContentFile?
        var started: NIODeadline
    }

    /// Bodies up to this size are copied into the response instead of sent with sendfile.
    static let copyLimit = 64 * 1024

    private let root: ContentRoot
    private let configuration: HTTPConfiguration
    private let connectionGuard: HTTPConnectionGuard
    private let logger: Logger
    private let metrics: ServerMetrics
    private var pending: Pending?
    /// A response that ends the connection is on its way: requests after it (pipelined
    /// behind it, or smuggled in a body whose framing was refused) are never answered.
    private var closing = false

    init(
        root: ContentRoot, configuration: HTTPConfiguration, connectionGuard: HTTPConnectionGuard, logger: Logger,
        metrics: ServerMetrics
    ) {
        self.metrics = metrics
        self.root = root
        self.configuration = configuration
        self.connectionGuard = connectionGuard
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard !closing else { return }
            connectionGuard.headReceived()
            pending = answer(head)
        case .body:
            break  // GET and HEAD bodies are read and dropped
        case .end:
            guard let pending, !closing else { return }
            self.pending = nil
            closing = !pending.plan.keepAlive
            respond(pending, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Planner first; the disk only for a GET or HEAD of a sane path.
    private func answer(_ head: HTTPRequestHead) -> Pending {
        let started = NIODeadline.now()
        let planner = HTTPResponsePlanner(
            head: head, now: HTTPClock.now, maxTargetLength: configuration.maxTargetLength,
            filenameMap: configuration.filenameMap)
        let path: RequestPath
        switch planner.preflight() {
        case .respond(let plan):
            return Pending(head: head, plan: plan, file: nil, started: started)
        case .serve(let served):
            path = served
        }
        do {
            let file = try root.open(path)
            let facts = HTTPResponsePlanner.FileFacts(
                name: path.components.last ?? [], size: file.size, modified: file.modificationTime, inode: file.inode)
            return Pending(head: head, plan: planner.plan(file: facts, path: path), file: file, started: started)
        } catch .directory {
            let plan: HTTPResponsePlan
            switch planner.directory(path, listing: configuration.listing) {
            case .respond(let answer):
                plan = answer
            case .list:
                do {
                    let html = DirectoryListing.html(title: path.relativePath, entries: try root.list(path))
                    plan = planner.listing(html)
                } catch {
                    plan = planner.refusal(error)
                }
            }
            return Pending(head: head, plan: plan, file: nil, started: started)
        } catch {
            return Pending(head: head, plan: planner.refusal(error), file: nil, started: started)
        }
    }

    private func respond(_ pending: Pending, context: ChannelHandlerContext) {
        let plan = pending.plan
        // HTTP/1.0 is answered as 1.0; 1.1 and any higher minor version as 1.1 (RFC 9110 §2.5).
        let version = pending.head.version.minor == 0 ? HTTPVersion.http1_0 : .http1_1
        let head = HTTPResponseHead(version: version, status: plan.status, headers: plan.headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var handle: NIOFileHandle?
        switch plan.body {
        case .none:
            break
        case .text(let text):
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        case .file(let range):
            guard let file = pending.file, range.lowerBound < range.upperBound else { break }
            let length = Int(range.upperBound - range.lowerBound)
            if length <= Self.copyLimit {
                // Small bodies go out with the head in one write: cheaper than a dup,
                // a sendfile and a close for a config file or a 1 KiB script.
                var buffer = context.channel.allocator.buffer(capacity: length)
                do {
                    try file.read(into: &buffer, offset: range.lowerBound, length: length)
                    context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                } catch {
                    // The head promised a body we cannot send.
                    context.close(promise: nil)
                }
            } else {
                let descriptor = dup(file.descriptor)
                guard descriptor >= 0 else {
                    context.close(promise: nil)
                    break
                }
                let fileHandle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
                handle = fileHandle
                let region = FileRegion(
                    fileHandle: fileHandle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound))
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            }
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            try? handle?.close()
            log(pending, result: result, context: context)
            if case .success = result, plan.keepAlive {
                connectionGuard.responseFinished()
            } else {
                context.close(promise: nil)
            }
        }
    }

    /// The one access-log line per request.
    private func log(_ pending: Pending, result: Result<Void, any Error>, context: ChannelHandlerContext) {
        var metadata: Logger.Metadata = [
            "client": "\(context.channel.remoteAddress?.display ?? "?")",
            "method": "\(pending.head.method.rawValue)",
            "target": "\(pending.head.uri.prefix(256))",
            "status": "\(pending.plan.status.code)",
            "bytes": "\(pending.plan.bodyLength)",
            "duration_ms": "\(Double((NIODeadline.now() - pending.started).nanoseconds / 10_000) / 100)",
        ]
        if case .failure(let error) = result { metadata["error"] = "\(error)" }
        if let range = pending.head.headers.first(name: "range") { metadata["range"] = "\(range.prefix(64))" }
        logger.info("request", metadata: metadata)
        metrics.httpResponse(status: pending.plan.status.code, bodyBytes: Int64(pending.plan.bodyLength))
    }
}
