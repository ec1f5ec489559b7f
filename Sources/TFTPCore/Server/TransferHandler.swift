import NIOCore

/// Runs one ``ServerTransfer`` on its own UDP channel's event loop: it feeds the machine
/// datagrams and timer events and performs the actions it returns. No protocol decisions
/// here: only send, read, arm the timer, finish.
///
/// The DATA/ACK loop stays on the event loop (DESIGN: the async channel API costs about
/// 40 µs more per datagram); the transfer's task only awaits ``completion``.
///
/// The socket is unconnected, so it sees strangers' datagrams and answers them with
/// ERROR 5 through the machine's rule (DESIGN: a connected socket would hide them).
final class TransferHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Events the transfer's task sends down the pipeline.
    enum Command: Sendable {
        /// Graceful shutdown began: end the transfer if it still runs after `grace`.
        case shutdown(grace: TimeAmount)
        /// End the transfer now with an ERROR to the client.
        case abort
    }

    /// What the transfer's task learns at the end.
    struct Report: Sendable {
        var outcome: ServerTransfer.Outcome
        var options: Options
        var statistics: ServerTransfer.Statistics
    }

    private var machine: ServerTransfer
    private let content: Result<ContentReader, ContentError>
    private let client: SocketAddress
    private let completion: EventLoopPromise<Report>
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var shutdownTimer: Scheduled<Void>?
    private var finished = false

    init(
        machine: ServerTransfer,
        content: Result<ContentReader, ContentError>,
        client: SocketAddress,
        completion: EventLoopPromise<Report>
    ) {
        self.machine = machine
        self.content = content
        self.client = client
        self.completion = completion
    }

    func channelActive(context: ChannelHandlerContext) {
        let size = content.map(\.size)
        perform(machine.start(content: size, now: .now()), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed under us: the transfer cannot go on.
        if !finished { perform(machine.abort(), context: context) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let decoded = Packet.decode(envelope.data)
        guard envelope.remoteAddress == client else {
            if let reply = ServerTransfer.replyToStranger(decoded) {
                write(reply, to: envelope.remoteAddress, context: context)
                context.flush()
            }
            return
        }
        switch decoded {
        case .success(let packet):
            perform(machine.received(packet, now: .now()), context: context)
        case .failure:
            perform(machine.receivedMalformed(now: .now()), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Unconnected UDP: errors here are per-datagram (e.g. ENOBUFS); the timer recovers.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? Command else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch command {
        case .abort:
            perform(machine.abort(), context: context)
        case .shutdown(let grace):
            guard !finished, shutdownTimer == nil else { return }
            shutdownTimer = context.eventLoop.assumeIsolated().scheduleTask(in: grace) { [self] in
                self.perform(self.machine.abort(), context: context)
            }
        }
    }

    // MARK: - Performing actions

    private func perform(_ action: ServerTransfer.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let packet, let deadline):
            write(packet, to: client, context: context)
            context.flush()
            arm(deadline, context: context)
        case .sendWindow(let window, let deadline):
            if let failure = send(window, context: context) {
                perform(machine.contentFailed(failure), context: context)
                return
            }
            arm(deadline, context: context)
        case .armTimer(let deadline):
            arm(deadline, context: context)
        case .wait:
            break
        case .finish(let outcome, let packet):
            guard !finished else { return }
            finished = true
            if let packet {
                write(packet, to: client, context: context)
                context.flush()
            }
            timer?.cancel()
            shutdownTimer?.cancel()
            completion.succeed(Report(outcome: outcome, options: machine.options, statistics: machine.statistics))
        }
    }

    /// Sends a window as one burst: each DATA is written into a buffer sized for it, the
    /// payload read straight behind its 4-byte header with pread, and one flush at the end.
    private func send(_ window: ServerTransfer.DataWindow, context: ChannelHandlerContext) -> ContentError? {
        guard case .success(let reader) = content else { return .io(errno: 5) }
        for i in 0..<window.count {
            let (wire, offset, length) = window.block(i)
            var buffer = context.channel.allocator.buffer(capacity: 4 + length)
            buffer.writeInteger(Opcode.data.rawValue)
            buffer.writeInteger(wire)
            do {
                try reader.read(into: &buffer, offset: offset, length: length)
            } catch {
                return error
            }
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
        }
        context.flush()
        return nil
    }

    private func write(_ packet: Packet, to address: SocketAddress, context: ChannelHandlerContext) {
        let buffer = packet.encoded(allocator: context.channel.allocator)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    /// Arms the retransmit timer lazily: an armed timer that fires no later than the new
    /// deadline is kept (the machine re-arms it when it fires early), so the steady DATA/ACK
    /// flow does not reschedule a timer for every packet.
    private func arm(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        if timer != nil, let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.machine.timerFired(now: .now()), context: context)
        }
    }
}
