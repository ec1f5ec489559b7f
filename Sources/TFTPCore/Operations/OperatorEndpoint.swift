import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A small HTTP listener for the operator's network, kept apart from the file server:
/// `--metrics ADDR:PORT` (`GET /metrics`, the Prometheus text format 0.0.4) and `--status
/// ADDR:PORT` (the status page, its fragment, `/api/transfers`, and with `--machines`
/// `/api/explain`). Each path has a content type and a renderer, given the query; anything
/// else is 404, methods other than GET and HEAD 405. A `Service`; it stops on shutdown.
public struct OperatorEndpoint: Service {
    /// One path's answer, rendered from the request's query (`a=1&b=2`, possibly empty).
    public struct Route: Sendable {
        public var contentType: String
        public var answer: @Sendable (_ query: String) async -> (status: HTTPResponseStatus, body: [UInt8])

        /// A route that always answers 200 with what `render` makes.
        public init(contentType: String, render: @escaping @Sendable (_ query: String) async -> [UInt8]) {
            self.contentType = contentType
            self.answer = { query in (.ok, await render(query)) }
        }

        /// A route whose status is its own (a probe's 503).
        public init(
            contentType: String,
            answer: @escaping @Sendable (_ query: String) async -> (status: HTTPResponseStatus, body: [UInt8])
        ) {
            self.contentType = contentType
            self.answer = answer
        }
    }

    private let name: String
    private let address: ListenAddress
    private let routes: [String: Route]
    private let logger: Logger
    private let group: any EventLoopGroup
    private let onListening: @Sendable ([SocketAddress]) async throws -> Void

    /// `name` is what the listening log line says it serves ("serving metrics").
    public init(
        name: String,
        address: ListenAddress,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        routes: [String: Route],
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) {
        self.name = name
        self.address = address
        self.routes = routes
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    /// `--metrics`: Prometheus text at /metrics.
    public static func metrics(
        address: ListenAddress, logger: Logger, render: @escaping @Sendable () -> [UInt8],
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) -> OperatorEndpoint {
        OperatorEndpoint(
            name: "metrics", address: address, logger: logger,
            routes: ["/metrics": Route(contentType: "text/plain; version=0.0.4; charset=utf-8") { _ in render() }],
            onListening: onListening)
    }

    /// `--status`: the page at /, the part its script refreshes at /fragment, the same
    /// facts as JSON at /api/transfers; with `--machines`, /api/explain?mac=…&arch=…&ip=…
    /// &uuid=…&hostname=… says which profile such a machine gets, and why. Two probes for a
    /// service manager or Kubernetes (docs/fleet.md): /livez answers once every engine
    /// thread has answered (a stuck thread makes it time out), /readyz is 503 until every
    /// file read after start has a version in use (a `--machines` URL whose origin has not
    /// answered yet, with no copy kept).
    public static func status(
        address: ListenAddress, logger: Logger, board: TransferBoard, machines: MachineService? = nil,
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) -> OperatorEndpoint {
        var routes: [String: Route] = [
            "/": Route(contentType: "text/html; charset=utf-8") { _ in
                Array(StatusPage.page(await board.snapshot()).utf8)
            },
            "/fragment": Route(contentType: "text/html; charset=utf-8") { _ in
                Array(StatusPage.fragment(await board.snapshot()).utf8)
            },
            "/api/transfers": Route(contentType: "application/json") { _ in
                Array(await board.snapshot().json.utf8)
            },
            "/livez": Route(contentType: "text/plain; charset=utf-8") { _ in
                let running = await board.snapshot().active.count
                return Array("alive: \(running) transfers running\n".utf8)
            },
            "/readyz": Route(
                contentType: "text/plain; charset=utf-8",
                answer: { _ in
                    let missing = (board.versions?.versions ?? []).filter { $0.sha256 == ConfigVersions.noVersion }
                    guard missing.isEmpty else {
                        let reasons = missing.map { "\($0.name): \($0.failure ?? "")" }.joined(separator: "\n")
                        return (.serviceUnavailable, Array("not ready: no version in use of\n\(reasons)\n".utf8))
                    }
                    return (.ok, Array("ready\n".utf8))
                }),
        ]
        if let machines {
            routes["/api/explain"] = Route(contentType: "application/json") { query in
                let target = "?" + query
                func value(_ name: String) -> String? { HTTPRequestTarget.queryValue(name, in: target) }
                let machine = MachineIdentity(
                    mac: value("mac").flatMap(MACAddress.init), uuid: value("uuid")?.lowercased(),
                    architecture: value("arch").flatMap(ClientArchitecture.init(rawValue:)),
                    address: value("ip").flatMap(IPv4Address.init), hostname: value("hostname"))
                return Array(StatusSnapshot.json(machines.book.explain(machine)).utf8)
            }
        }
        return OperatorEndpoint(
            name: "status page", address: address, logger: logger, routes: routes, onListening: onListening)
    }

    public func run() async throws {
        let routes = routes
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Responder(routes: routes))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
        let bound = channel.localAddress.map { [$0] } ?? []
        let paths = routes.keys.sorted().joined(separator: " ")
        for address in bound {
            logger.info("serving \(name)", metadata: ["address": "\(address.display)", "paths": "\(paths)"])
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

        private let routes: [String: Route]
        private var head: HTTPRequestHead?

        init(routes: [String: Route]) {
            self.routes = routes
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
            guard head.method == .GET || head.method == .HEAD else {
                return refuse(
                    head, HTTPErrorResponse(.methodNotAllowed, extraHeaders: [("Allow", "GET, HEAD")]),
                    context: context)
            }
            guard let route = routes[path] else {
                let known = routes.keys.sorted().joined(separator: ", ")
                return refuse(
                    head, HTTPErrorResponse(.notFound, note: "this listener serves \(known)"), context: context)
            }
            // Rendered off the event loop's thread of control (the status page asks the
            // engine threads), then written on it.
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            loop.makeFutureWithTask { await route.answer(query) }.whenSuccess { status, body in
                let (responder, context) = bound.value
                var headers = HTTPResponsePlan.commonHeaders(now: HTTPClock.now)
                headers.add(name: "Content-Type", value: route.contentType)
                headers.add(name: "Cache-Control", value: "no-store")
                headers.add(name: "Content-Length", value: String(body.count))
                responder.write(head, status: status, headers: headers, body: body, context: context)
            }
        }

        private func refuse(_ head: HTTPRequestHead, _ response: HTTPErrorResponse, context: ChannelHandlerContext) {
            write(
                head, status: response.status, headers: response.headers(now: HTTPClock.now),
                body: Array(response.text.utf8), context: context)
        }

        private func write(
            _ head: HTTPRequestHead, status: HTTPResponseStatus, headers: HTTPHeaders, body bytes: [UInt8],
            context: ChannelHandlerContext
        ) {
            var headers = headers
            if let connection = HTTPHeadSerializer.connection(
                keepAlive: head.isKeepAlive, http10: head.version.minor == 0)
            {
                headers.add(name: "Connection", value: connection)
            }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            if head.method != .HEAD {
                context.write(
                    wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            }
            let channel = context.channel
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
