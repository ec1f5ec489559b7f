import NIOCore

/// Runs one ``ClientTransfer`` on its UDP channel's event loop: it feeds the machine
/// datagrams and timer events, hands delivered bytes to the sink and performs the
/// machine's actions. No protocol decisions here.
///
/// The socket is unconnected; which source may talk to the transfer (RFC 1350 §4) is the
/// pure ``ClientEndpoint``'s rule.
final class ClientHandler<Sink: TransferSink>: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Events the transfer's task sends down the pipeline.
    enum Command: Sendable {
        case cancel
    }

    private var endpoint: ClientEndpoint<SocketAddress>
    private var sink: Sink
    private let progress: (@Sendable (Int64, Int64?) -> Void)?
    private let completion: EventLoopPromise<ClientReport>
    private let started = NIODeadline.now()
    private var lastProgress = NIODeadline.distantPast
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var finished = false

    init(
        machine: ClientTransfer,
        sink: Sink,
        server: SocketAddress,
        progress: (@Sendable (Int64, Int64?) -> Void)?,
        completion: EventLoopPromise<ClientReport>
    ) {
        self.endpoint = ClientEndpoint(server: server, transfer: machine)
        self.sink = sink
        self.progress = progress
        self.completion = completion
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(endpoint.transfer.start(now: .now()), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { perform(endpoint.transfer.cancel(), context: context) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch endpoint.received(Packet.decode(envelope.data), from: envelope.remoteAddress, now: .now()) {
        case .perform(let action):
            perform(action, context: context)
        case .reply(let packet, let stranger):
            context.writeAndFlush(
                wrapOutboundOut(
                    .init(remoteAddress: stranger, data: packet.encoded(allocator: context.channel.allocator))),
                promise: nil)
        case .ignore:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? Command else { return context.fireUserInboundEventTriggered(event) }
        switch command {
        case .cancel: perform(endpoint.transfer.cancel(), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like surface here on an unconnected socket;
        // the retransmission timer decides when to give up.
    }

    private func perform(_ action: ClientTransfer.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let packet, let deadline):
            send(packet, context: context)
            arm(deadline, context: context)
        case .deliver(let payload, let ack, let deadline):
            do {
                try sink.write(payload)
            } catch {
                return perform(endpoint.transfer.sinkFailed(error), context: context)
            }
            if let ack { send(ack, context: context) }
            arm(deadline, context: context)
            report(progressAt: .now(), force: false)
        case .armTimer(let deadline):
            arm(deadline, context: context)
        case .wait:
            break
        case .finish(var outcome, let packet):
            if let packet { send(packet, context: context) }
            if case .completed = outcome {
                do { try sink.finish() } catch { outcome = .localFailure(error) }
            }
            finish(outcome, context: context)
        }
    }

    private func send(_ packet: Packet, context: ChannelHandlerContext) {
        let buffer = packet.encoded(allocator: context.channel.allocator)
        context.writeAndFlush(
            wrapOutboundOut(.init(remoteAddress: endpoint.destination, data: buffer)), promise: nil)
    }

    /// Lazy timer: an earlier timer that is still pending stays; when it fires the
    /// machine answers with the later deadline (``ClientTransfer/timerFired(now:)``).
    private func arm(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.endpoint.transfer.timerFired(now: .now()), context: context)
        }
    }

    private func report(progressAt now: NIODeadline, force: Bool) {
        guard let progress, force || now - lastProgress >= .milliseconds(100) else { return }
        lastProgress = now
        progress(endpoint.transfer.bytesReceived, endpoint.transfer.announcedSize)
    }

    private func finish(_ outcome: ClientTransfer.Outcome, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        timer = nil
        report(progressAt: .now(), force: true)
        completion.succeed(
            ClientReport(
                outcome: outcome,
                bytes: endpoint.transfer.bytesReceived,
                blockSize: endpoint.transfer.blockSize,
                windowSize: endpoint.transfer.windowSize,
                optionsAcknowledged: endpoint.transfer.optionsAcknowledged,
                announcedSize: endpoint.transfer.announcedSize,
                retransmits: endpoint.transfer.retransmits,
                // The transfer ends with its last block, not with the dally after it.
                duration: (endpoint.transfer.lastBlockReceivedAt ?? .now()) - started,
                server: endpoint.transferID,
                requested: endpoint.transfer.requestedOptions
            ))
        context.close(promise: nil)
    }
}
