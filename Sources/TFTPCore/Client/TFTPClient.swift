import NIOCore
import NIOPosix

/// Fetches files from a TFTP server: one ``ClientTransfer`` per call, driven by a
/// ``ClientHandler`` on a fresh unconnected UDP socket (its port is our transfer ID).
public struct TFTPClient: Sendable {
    public let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// Reads `filename` from `server` into `sink`. `progress` is called on the event loop
    /// at most ten times a second and once at the end with the bytes received so far and
    /// the announced size. Cancelling the calling task ends the transfer with an ERROR to
    /// the server. Throws only when no socket could be opened.
    public func get<Sink: TransferSink>(
        _ filename: [UInt8],
        from server: SocketAddress,
        configuration: ClientTransfer.Configuration = .init(),
        into sink: Sink,
        progress: (@Sendable (Int64, Int64?) -> Void)? = nil
    ) async throws -> ClientReport {
        let loop = group.next()
        let completion = loop.makePromise(of: ClientReport.self)
        let machine = ClientTransfer(filename: filename, configuration: configuration)
        let any = server.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel: any Channel
        do {
            // Room for the largest DATA we may accept plus one byte, so an oversize block
            // is seen as one (NIO's default of 2048 bytes would cut big blocks short).
            let capacity =
                Packet.dataHeaderSize
                + max(configuration.blockSize ?? NegotiatedOptions.defaultBlockSize, NegotiatedOptions.defaultBlockSize)
                + 1
            channel = try await DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: capacity))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ClientHandler(
                            machine: machine, sink: sink, server: server, progress: progress, completion: completion)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .bind(host: any, port: 0)
                .get()
        } catch {
            completion.fail(error)
            throw error
        }
        return try await withTaskCancellationHandler {
            try await completion.futureResult.get()
        } onCancel: {
            channel.pipeline.fireUserInboundEventTriggered(ClientHandler<Sink>.Command.cancel)
        }
    }
}
