import NIOCore

/// Runs one ``ClientTransfer`` on its UDP channel's event loop: it feeds the machine
/// datagrams and timer events, hands delivered bytes to the sink and performs the
/// machine's actions. No protocol decisions here.
///
/// The socket is unconnected. The RRQ goes to the server's listening port; the first
/// reply from the server's address fixes its transfer ID, and datagrams from any other
/// source get ERROR 5 without disturbing the transfer (RFC 1350 §4).
final class ClientHandler<Sink: TransferSink>: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Events the transfer's task sends down the pipeline.
    enum Command: Sendable {
        case cancel
    }

    private var machine: ClientTransfer
    private var sink: Sink
    private let server: SocketAddress
    private var transferID: SocketAddress?
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
        self.machine = machine
        self.sink = sink
        self.server = server
        self.progress = progress
        self.completion = completion
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.start(now: .now()), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { perform(machine.cancel(), context: context) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = envelope.remoteAddress
        let decoded = Packet.decode(envelope.data)
        if transferID == nil, source.ipAddress == server.ipAddress, case .success = decoded {
            transferID = source
        }
        guard source == transferID else {
            if let reply = ClientTransfer.replyToStranger(decoded) {
                context.writeAndFlush(
                    wrapOutboundOut(
                        .init(remoteAddress: source, data: reply.encoded(allocator: context.channel.allocator))),
                    promise: nil)
            }
            return
        }
        // A malformed datagram from the server is dropped; the timer recovers.
        guard case .success(let packet) = decoded else { return }
        perform(machine.received(packet, now: .now()), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? Command else { return context.fireUserInboundEventTriggered(event) }
        switch command {
        case .cancel: perform(machine.cancel(), context: context)
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
                return perform(machine.sinkFailed(error.description), context: context)
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
                do { try sink.finish() } catch { outcome = .localFailure(error.description) }
            }
            finish(outcome, context: context)
        }
    }

    private func send(_ packet: Packet, context: ChannelHandlerContext) {
        let buffer = packet.encoded(allocator: context.channel.allocator)
        context.writeAndFlush(
            wrapOutboundOut(.init(remoteAddress: transferID ?? server, data: buffer)), promise: nil)
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
            self.perform(self.machine.timerFired(now: .now()), context: context)
        }
    }

    private func report(progressAt now: NIODeadline, force: Bool) {
        guard let progress, force || now - lastProgress >= .milliseconds(100) else { return }
        lastProgress = now
        progress(machine.bytesReceived, machine.announcedSize)
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
                bytes: machine.bytesReceived,
                blockSize: machine.blockSize,
                windowSize: machine.windowSize,
                optionsAcknowledged: machine.optionsAcknowledged,
                announcedSize: machine.announcedSize,
                retransmits: machine.retransmits,
                // The transfer ends with its last block, not with the dally after it.
                duration: (machine.lastBlockReceivedAt ?? .now()) - started,
                server: transferID
            ))
        context.close(promise: nil)
    }
}
