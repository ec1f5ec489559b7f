import NIOCore

/// Single-port mode (`--single-port`): every transfer is served from the listening socket,
/// for NAT and firewalls that only let port 69 through. Sits in the listener's pipeline
/// before the request reader and tells transfers apart by the client's address and port
/// (RFC 1350's transfer ID on the client side): a datagram from a client with a running
/// transfer goes to that transfer's ``TransferSession``; anything else (a new request, a
/// stranger, a late ACK after the end) goes on to the listener's rules, which start
/// transfers or stay silent.
///
/// All transfers of a listener run on its event loop; UDP GSO is asked per message, since
/// transfers on the one socket may differ in block size.
final class SinglePortDemultiplexer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// One transfer's view of the shared socket.
    final class Link: TransferLink {
        let client: SocketAddress
        let session: TransferSession
        private unowned let owner: SinglePortDemultiplexer
        private let context: ChannelHandlerContext

        init(
            client: SocketAddress, session: TransferSession, owner: SinglePortDemultiplexer,
            context: ChannelHandlerContext
        ) {
            self.client = client
            self.session = session
            self.owner = owner
            self.context = context
        }

        var eventLoop: any EventLoop { context.eventLoop }
        var allocator: ByteBufferAllocator { context.channel.allocator }

        func write(_ data: ByteBuffer, segmentSize: Int?) {
            let metadata = segmentSize.map {
                AddressedEnvelope<ByteBuffer>.Metadata(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: $0)
            }
            context.write(
                NIOAny(AddressedEnvelope(remoteAddress: client, data: data, metadata: metadata)), promise: nil)
        }

        func flush() {
            context.flush()
        }

        func finished() {
            owner.links[client] = nil
        }
    }

    private var context: ChannelHandlerContext?
    private var links: [SocketAddress: Link] = [:]

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let link = links[envelope.remoteAddress] {
            link.session.received(envelope.data)
        } else {
            context.fireChannelRead(data)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for link in Array(links.values) { link.session.linkClosed() }
        context.fireChannelInactive()
    }

    /// Starts `session` for `client` on the shared socket; false when the socket is gone.
    func attach(_ session: TransferSession, client: SocketAddress) -> Bool {
        guard let context, context.channel.isActive else { return false }
        let link = Link(client: client, session: session, owner: self, context: context)
        links[client] = link
        session.start(on: link)
        return true
    }

    func handle(_ command: TransferSession.Command, for client: SocketAddress) {
        links[client]?.session.handle(command)
    }
}
