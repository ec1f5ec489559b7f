import NIOCore

/// In front of the TLS handler: tells the ``TLSHandshakeReporter`` behind it that the client
/// sent its first bytes (a ClientHello, or anything), then leaves the pipeline. A connection
/// that ends before that is a port check rather than a refused handshake.
final class TLSClientBytesWitness: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let reporter: TLSHandshakeReporter

    init(reporter: TLSHandshakeReporter) {
        self.reporter = reporter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reporter.clientSpoke = true
        // Passed on before leaving: a removed context forwards nothing.
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
