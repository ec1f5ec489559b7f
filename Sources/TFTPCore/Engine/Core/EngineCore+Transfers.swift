import NIOCore

/// A transfer's datagrams, what its machine asks for, falling silent, its end, and shutdown.
extension EngineCore {
    /// A datagram for the transfer in `slot`, from its client or a stranger, to its endpoint.
    /// A suspended transfer takes a place in the admission table again before its machine
    /// sees what its client sent (and goes without the datagram if the server is full), and
    /// gives it back if the machine is still suspended afterwards.
    mutating func transferDatagram(
        slot: Int, _ decoded: Result<Packet, PacketDecodingError>, from source: Address, now: NIODeadline,
        into effects: inout [Effect]
    ) {
        guard let transfer = self[slot] else { return }
        let suspension = transfer.phase
        let resuming = transfer.isSuspended && source == transfer.client
        if resuming {
            guard case .admitted = admission.admit(source, as: .resuming, thread: thread) else {
                effects.append(.note(.noPlaceToResume, client: source))
                return
            }
            resumeSuspension(slot)
        }
        switch transfer.endpoint.received(decoded, from: source, now: now) {
        case .perform(let action):
            apply(action, slot: slot, now: now, into: &effects)
        case .reply(let packet, let stranger):
            effects.append(.reply(slot: slot, packet, to: stranger))
        case .ignore:
            break
        }
        if resuming, self[slot] === transfer, !transfer.isSuspended, transfer.endpoint.transfer.isSuspended {
            // Nothing resumed it: back to waiting, in its old place in the queue.
            admission.release(source)
            resuspend(slot, in: suspension)
        }
    }

    /// Reading the transfer's content failed: its machine ends it with an ERROR.
    mutating func contentFailed(slot: Int, _ error: ContentError, now: NIODeadline, into effects: inout [Effect]) {
        guard let transfer = self[slot] else { return }
        apply(transfer.endpoint.transfer.contentFailed(error), slot: slot, now: now, into: &effects)
    }

    /// The transfer's socket failed under it (aborted by the kernel, as `ss -K` does): its
    /// machine ends it, and the socket is not reused.
    mutating func socketFailed(slot: Int, errno: Int32, now: NIODeadline, into effects: inout [Effect]) {
        guard let transfer = self[slot] else { return }
        apply(transfer.endpoint.transfer.socketFailed(), slot: slot, now: now, socketErrno: errno, into: &effects)
    }

    /// Performs the machine's action in the table (timers, suspension, the end) and passes on
    /// what the driver must do.
    mutating func apply(
        _ action: ServerTransfer.Action, slot: Int, now: NIODeadline, socketErrno: Int32? = nil,
        into effects: inout [Effect]
    ) {
        switch action {
        case .send(let packet, let deadline):
            effects.append(.send(slot: slot, packet))
            arm(slot, deadline)
        case .sendWindow(let window, let deadline):
            effects.append(.sendWindow(slot: slot, window))
            arm(slot, deadline)
        case .armTimer(let deadline):
            arm(slot, deadline)
        case .suspend(let deadline):
            suspend(slot, now: now, into: &effects)
            arm(slot, deadline)
        case .wait:
            break
        case .finish(let outcome, let packet):
            end(slot, outcome: outcome, packet: packet, now: now, socketErrno: socketErrno, into: &effects)
        }
    }

    /// The machine fell silent (its client never proved its address): the transfer gives its
    /// place back and joins the queue of suspended ones; past the cap the oldest ends.
    mutating func suspend(_ slot: Int, now: NIODeadline, into effects: inout [Effect]) {
        guard let transfer = self[slot], !transfer.isSuspended else { return }
        admission.release(transfer.client)
        enqueueSuspension(slot)
        effects.append(.suspended(slot: slot))
        while let oldest = oldestSuspendedOverLimit(), let waiting = self[oldest] {
            apply(waiting.endpoint.transfer.endSuspension(), slot: oldest, now: now, into: &effects)
        }
    }

    /// The machine ended the transfer: its place in the admission table is free first (so a
    /// reader of the log never sees a finished transfer still counted), its route and slot
    /// go, and its socket goes to the pool when the outcome leaves it clean
    /// (``socketReusable(after:)``).
    mutating func end(
        _ slot: Int, outcome: ServerTransfer.Outcome, packet: Packet?, now: NIODeadline, socketErrno: Int32?,
        into effects: inout [Effect]
    ) {
        guard let transfer = remove(slot) else { return }
        if transfer.isSuspended {
            suspendedTransferEnds()
        } else {
            admission.release(transfer.client)
        }
        var pooled = false
        if case .own(let descriptor) = transfer.socket, socketErrno == nil, Self.socketReusable(after: outcome) {
            pooled = keepIdleSocket(
                descriptor, listener: transfer.listener, now: now,
                roundTrip: transfer.endpoint.transfer.roundTripEstimate)
        }
        let machine = transfer.endpoint.transfer
        effects.append(
            .ended(
                TransferEnding(
                    slot: slot, client: transfer.client, request: machine.request, outcome: outcome,
                    options: machine.options, statistics: machine.statistics, started: transfer.started,
                    socket: transfer.socket, finalPacket: packet, pooled: pooled, socketErrno: socketErrno)))
    }

    /// Whether a transfer's socket may serve another after its quarantine: only when the
    /// transfer ended in order (completed, a probe, refused at once, never acknowledged, or
    /// left by its client for another request). After a peer's ERROR, a timeout, a violation
    /// or a failure, the client may still be sending to it.
    static func socketReusable(after outcome: ServerTransfer.Outcome) -> Bool {
        switch outcome {
        case .completed, .sizeProbe, .refused, .unacknowledged, .superseded: true
        case .peerError, .timedOut, .protocolViolation, .readFailed, .aborted: false
        }
    }

    // MARK: - Shutdown

    /// Graceful shutdown: each running transfer may go on for `grace`; suspended ones end.
    mutating func beginShutdown(grace: TimeAmount, now: NIODeadline, into effects: inout [Effect]) {
        for case (let slot, let transfer?) in transfers.enumerated() {
            apply(
                transfer.endpoint.transfer.beginShutdown(grace: grace, now: now), slot: slot, now: now, into: &effects)
        }
    }

    /// Ends every transfer now (running ones tell their client with an ERROR).
    mutating func abort(now: NIODeadline, into effects: inout [Effect]) {
        for case (let slot, let transfer?) in transfers.enumerated() {
            apply(transfer.endpoint.transfer.abort(), slot: slot, now: now, into: &effects)
        }
    }

    /// The thread stops: whatever is left ends (a suspended transfer as it would have, with
    /// its line; a running one, which a drained shutdown does not leave, with an ERROR), and
    /// the idle sockets close.
    mutating func stop(now: NIODeadline, into effects: inout [Effect]) {
        for case (let slot, let transfer?) in transfers.enumerated() {
            let action =
                transfer.isSuspended ? transfer.endpoint.transfer.endSuspension() : transfer.endpoint.transfer.abort()
            apply(action, slot: slot, now: now, into: &effects)
        }
        closeIdleSockets(into: &effects)
    }

    // MARK: - A last ERROR that waits

    /// How long a transfer's last ERROR may wait for room in a full send buffer before it is
    /// dropped: the client's own timer covers a lost ERROR, and a socket kept longer for it
    /// is a socket no transfer can use.
    static var lingerTime: TimeAmount { .seconds(1) }

    /// The last ERROR of the transfer that owned `descriptor` found its send buffer full
    /// (``EngineEffect/ended(_:)``): it waits for room until the returned deadline, and its
    /// socket, if the core had put it in the pool, is taken out so no transfer shares it
    /// meanwhile; the socket is closed once the ERROR is sent or dropped. In single-port mode
    /// (`ownSocket` false) the ERROR waits on the listener and nothing is closed.
    mutating func lastErrorWaits(socket descriptor: Int32, ownSocket: Bool, now: NIODeadline) -> NIODeadline {
        if ownSocket { withdrawIdleSocket(descriptor) }
        return now + Self.lingerTime
    }
}
