import NIOCore

/// A transfer on its own UDP socket (the normal mode: the socket's port is the server's
/// transfer ID). Hands the client's datagrams to its ``TransferSession`` and is the
/// session's ``TransferLink``.
///
/// The socket is unconnected, so it sees strangers' datagrams and answers them with
/// ERROR 5 through the machine's rule (DESIGN: a connected socket would hide them).
final class TransferHandler: ChannelInboundHandler, TransferLink {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let session: TransferSession
    private let client: SocketAddress
    private var context: ChannelHandlerContext?

    init(session: TransferSession, client: SocketAddress) {
        self.session = session
        self.client = client
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // A socket handed over already bound is active before its handler is added.
        if context.channel.isActive { session.start(on: self) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        session.start(on: self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.linkClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == client else {
            if let reply = ServerTransfer.replyToStranger(Packet.decode(envelope.data)) {
                let buffer = reply.encoded(allocator: context.channel.allocator)
                context.writeAndFlush(
                    wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)),
                    promise: nil)
            }
            return
        }
        session.received(envelope.data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Unconnected UDP: errors here are per-datagram (e.g. ENOBUFS); the timer recovers.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? TransferSession.Command else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        session.handle(command)
    }

    // MARK: - TransferLink

    var eventLoop: any EventLoop { context!.eventLoop }
    var allocator: ByteBufferAllocator { context!.channel.allocator }

    func write(_ data: ByteBuffer, segmentSize: Int?) {
        guard let context else { return }
        let metadata = segmentSize.map {
            AddressedEnvelope<ByteBuffer>.Metadata(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: $0)
        }
        context.write(
            wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: data, metadata: metadata)), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func finished() {
        context?.close(promise: nil)
    }
}
