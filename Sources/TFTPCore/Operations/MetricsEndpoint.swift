import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// `--metrics ADDR:PORT`: serves `GET /metrics` in the Prometheus text format (version
/// 0.0.4) from `render`, and 404 for anything else. Kept apart from the file server: it
/// is for the operator's network, not the clients'. A `Service`; it stops on shutdown.
public struct MetricsEndpoint: Service {
    private let address: ListenAddress
    private let render: @Sendable () -> [UInt8]
    private let logger: Logger
    private let group: any EventLoopGroup
    private let onListening: @Sendable ([SocketAddress]) async throws -> Void

    public init(
        address: ListenAddress,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        render: @escaping @Sendable () -> [UInt8],
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) {
        self.address = address
        self.render = render
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    public func run() async throws {
        let render = render
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Responder(render: render))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        let bound = channel.localAddress.map { [$0] } ?? []
        for address in bound {
            logger.info("serving metrics", metadata: ["address": "\(address.display)", "path": "/metrics"])
        }
        do {
            try await onListening(bound)
            try await channel.setOption(.autoRead, value: true).get()
        } catch {
            try? await channel.close()
            throw error
        }
        try? await gracefulShutdown()
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let render: @Sendable () -> [UInt8]
        private var head: HTTPRequestHead?

        init(render: @escaping @Sendable () -> [UInt8]) {
            self.render = render
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                self.head = nil
                respond(to: head, context: context)
            }
        }

        private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let status: HTTPResponseStatus
            var body = context.channel.allocator.buffer(capacity: 0)
            var headers = HTTPHeaders()
            if head.method != .GET && head.method != .HEAD {
                status = .methodNotAllowed
                headers.add(name: "Allow", value: "GET, HEAD")
            } else if path == "/metrics" {
                status = .ok
                body.writeBytes(render())
                headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            } else {
                status = .notFound
                body.writeString("not found: the metrics are at /metrics\n")
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            }
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
