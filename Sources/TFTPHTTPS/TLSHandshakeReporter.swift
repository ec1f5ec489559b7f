import Logging
import NIOCore
import NIOSSL
import NIOTLS
import TFTPCore

/// Sits behind the TLS handler on each HTTPS connection and turns a failed handshake into one
/// clear log line and a count (``TLSHandshakeFailure``), so that a firmware that refuses the
/// certificate is explained on the server, not only by a silent boot menu. Everything else
/// passes through.
///
/// A client that goes away mid-handshake is reported once, however it goes: a close (the TLS
/// library's end of file), or a reset, which reaches the HTTP handler first, whose close then
/// turns the end into an unclean shutdown. EDK2 refuses a certificate with a reset
/// (docs/https-boot.md). A connection that closes before sending a byte is a port check, not
/// a refusal, and is logged at debug only: ``TLSClientBytesWitness``, in front of the TLS
/// handler, says whether the client spoke.
final class TLSHandshakeReporter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger
    private let metrics: TLSMetrics
    private var handshakeDone = false
    private var reported = false
    /// Set by the witness when the first bytes of the client arrive.
    var clientSpoke = false

    init(logger: Logger, metrics: TLSMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshakeDone = true
            // Nothing more to watch on this connection.
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !handshakeDone && !reported {
            switch error {
            case NIOSSLError.handshakeFailed(let cause):
                report(TLSHandshakeFailure(errorText: "\(cause)"), error: "\(cause)", context: context)
            case NIOSSLError.uncleanShutdown, is IOError:
                report(.clientClosed, error: "\(error)", context: context)
            default:
                break
            }
        }
        context.fireErrorCaught(error)
    }

    private func report(_ failure: TLSHandshakeFailure, error: String, context: ChannelHandlerContext) {
        reported = true
        let client = context.channel.remoteAddress?.display ?? "?"
        guard failure != .clientClosed || clientSpoke else {
            logger.debug(
                "tls: connection closed before a handshake began",
                metadata: ["client": "\(client)", "error": "\(error)"]
            )
            return
        }
        metrics.handshakeFailed(failure)
        logger.notice(
            "tls: handshake failed",
            metadata: [
                "client": "\(client)", "reason": "\(failure.rawValue)", "hint": "\(failure.hint)",
                "error": "\(error)",
            ])
    }
}
