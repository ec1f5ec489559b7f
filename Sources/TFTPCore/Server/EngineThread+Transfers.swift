import CTFTPShims
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An engine thread's transfers: their datagrams, the actions of their machines, reading
/// ahead and sending windows.
extension EngineThread {
    /// Reads one datagram from the transfer's socket and handles it; false when none waited.
    /// One per readiness: a transfer socket has at most one ACK waiting, and epoll
    /// (level-triggered) reports anything else on the next turn.
    @discardableResult
    func readTransfer(_ transfer: EngineTransfer, now: NIODeadline) -> Bool {
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        let source = sources + Self.receiveBatch
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = recvfrom(
            transfer.socket, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT),
            UnsafeMutableRawPointer(source).assumingMemoryBound(to: sockaddr.self), &length)
        if count < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return false }
            socketFailed(transfer, errno: error, now: now)
            return false
        }
        guard !transfer.lingering, let address = PeerAddress(source, length: length), address.isAcceptableClient else {
            return true
        }
        deliver(
            Packet.decode(UnsafeRawBufferPointer(start: buffer, count: count)), from: address, to: transfer, now: now)
        return true
    }

    /// A datagram for the transfer, from its client or a stranger, to its endpoint. A
    /// suspended transfer takes a slot again before the machine sees what its client sent
    /// (and goes without the datagram if the server is full), and gives it back if the
    /// machine is still suspended afterwards.
    func deliver(
        _ decoded: Result<Packet, PacketDecodingError>, from source: PeerAddress, to transfer: EngineTransfer,
        now: NIODeadline
    ) {
        let wasSuspended = transfer.suspended && source == transfer.client
        if wasSuspended {
            guard case .admitted = registry.admit(source, resuming: true) else { return }
            setSuspended(transfer, false)
        }
        switch transfer.endpoint.received(decoded, from: source, now: now) {
        case .perform(let action):
            perform(action, for: transfer, now: now)
        case .reply(let packet, let stranger):
            _ = sendControl(packet, to: stranger, on: transfer.socket)
        case .ignore:
            break
        }
        if wasSuspended, slots[transfer.slot] === transfer, transfer.endpoint.transfer.isSuspended {
            registry.release(source)
            setSuspended(transfer, true)
        }
    }

    /// The machine fell silent (its client never proved its address): the slot goes back,
    /// nothing is pending, the read-ahead goes; the socket and the file stay for a late ACK.
    /// Past the thread's limit of suspended transfers, the oldest one ends.
    func suspend(_ transfer: EngineTransfer) {
        settings.logger.debug(
            "suspended: the client has not acknowledged the first packet",
            metadata: ["client": "\(transfer.client.display)"])
        registry.release(transfer.client)
        setSuspended(transfer, true)
        transfer.pending = nil
        if transfer.waitsForWritable { unblock(transfer) }
        transfer.windowAfterRead = nil
        if transfer.readInFlight == nil { transfer.dropFrames() }
        suspendedOrder.append((transfer.slot, transfer.generation))
        while suspendedCount > settings.suspendedLimit, suspendedHead < suspendedOrder.count {
            let (slot, generation) = suspendedOrder[suspendedHead]
            suspendedHead += 1
            if let oldest = slots[slot], oldest.generation == generation, oldest.suspended {
                perform(oldest.endpoint.transfer.endSuspension(), for: oldest, now: NIODeadline.now())
            }
        }
        if suspendedHead > 1024, suspendedHead * 2 > suspendedOrder.count {
            suspendedOrder.removeFirst(suspendedHead)
            suspendedHead = 0
        }
    }

    func setSuspended(_ transfer: EngineTransfer, _ suspended: Bool) {
        guard transfer.suspended != suspended else { return }
        transfer.suspended = suspended
        suspendedCount += suspended ? 1 : -1
    }

    /// The socket failed under the transfer (aborted by the kernel, as `ss -K` does): the
    /// machine ends it, and the line says why.
    func socketFailed(_ transfer: EngineTransfer, errno error: Int32, now: NIODeadline) {
        guard !transfer.lingering else { return release(transfer) }
        let failure = UDPSocket.Failure(operation: "transfer socket", errno: error)
        perform(transfer.endpoint.transfer.socketFailed(), for: transfer, now: now, socketError: failure)
    }

    /// Performs one of the machine's actions; nothing is decided here.
    func perform(
        _ action: ServerTransfer.Action, for transfer: EngineTransfer, now: NIODeadline,
        socketError: UDPSocket.Failure? = nil
    ) {
        switch action {
        case .send(let packet, let deadline):
            transfer.pending = nil
            if sendControl(packet, to: transfer.client, on: transfer.socket) == EAGAIN {
                transfer.pending = .packet(Array(scratch.readableBytesView))
                block(transfer)
            }
            arm(transfer, deadline)
        case .sendWindow(let window, let deadline):
            do {
                try send(window, for: transfer)
            } catch {
                return perform(transfer.endpoint.transfer.contentFailed(error), for: transfer, now: now)
            }
            arm(transfer, deadline)
        case .armTimer(let deadline):
            arm(transfer, deadline)
        case .suspend(let deadline):
            suspend(transfer)
            arm(transfer, deadline)
        case .wait:
            break
        case .finish(let outcome, let packet):
            finish(transfer, outcome: outcome, packet: packet, now: now, socketError: socketError)
        }
    }

    /// Lazy timers: a transfer's pending deadline that is no later than the new one stays
    /// (the machine re-arms when it fires early), so steady progress pushes nothing.
    func arm(_ transfer: EngineTransfer, _ deadline: NIODeadline) {
        let nanoseconds = deadline.uptimeNanoseconds
        if let armed = transfer.armed, armed <= nanoseconds { return }
        transfer.armed = nanoseconds
        timers.push(.init(deadline: nanoseconds, slot: UInt32(transfer.slot), generation: transfer.generation))
    }

    /// Encodes `packet` into the scratch buffer and sends it; returns 0 or the errno.
    func sendControl(_ packet: Packet, to address: PeerAddress, on socket: Int32) -> Int32 {
        scratch.clear()
        packet.encode(into: &scratch)
        return scratch.withUnsafeReadableBytes { UDPSocket.send(socket, $0, to: address) }
    }

    /// Sends a window from the read-ahead frames (reading ahead first if they do not hold
    /// it). A full send buffer leaves the rest pending until the socket is writable; a read
    /// that waits for the device leaves the window for when the read is done.
    func send(_ window: ServerTransfer.DataWindow, for transfer: EngineTransfer) throws(ContentError) {
        transfer.pending = nil
        if transfer.readInFlight != nil {
            transfer.windowAfterRead = window
            return
        }
        let frameSize = 4 + window.blockSize
        if transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) == nil {
            guard try readAhead(from: window, for: transfer) else {
                transfer.windowAfterRead = window
                return
            }
        }
        transmit(window, from: 0, for: transfer)
    }

    /// Reads the window's blocks and those after it, up to the read-ahead size and the
    /// end of the content, with one preadv that does not wait for the device. If the bytes
    /// are not in the page cache, a reader thread reads them and this returns false.
    func readAhead(from window: ServerTransfer.DataWindow, for transfer: EngineTransfer) throws(ContentError)
        -> Bool
    {
        guard let content = transfer.content else { throw .io(errno: EIO) }
        let frameSize = 4 + window.blockSize
        let blocksInContent = UInt64(window.contentSize / Int64(window.blockSize)) + 1
        let left = Int(min(blocksInContent - window.first + 1, UInt64(Int32.max)))
        let count = min(left, max(window.count, settings.readAheadBytes / frameSize, 1))
        if (transfer.buffer?.capacity ?? 0) < count * frameSize {
            transfer.buffer = FrameBuffer(capacity: count * frameSize)
        }
        guard let buffer = transfer.buffer else { throw .io(errno: ENOMEM) }
        var extended = window
        extended.count = count
        transfer.cachedCount = 0
        let frames = ContentFile.Frames(
            gap: 4, chunk: window.blockSize, count: count, last: extended.block(count - 1).length)
        let offset = extended.block(0).offset
        let deferred: Bool
        if case .file = content, settings.deferEveryRead {
            deferred = true
        } else {
            deferred = try !content.readFrames(into: buffer.base, frames: frames, offset: offset, cachedOnly: true)
        }
        guard !deferred else {
            transfer.readInFlight = extended
            settings.metrics.coldRead()
            settings.logger.debug(
                "read waits for the device",
                metadata: ["client": "\(transfer.client.display)", "block": "\(window.first)"])
            reads.submit(
                .init(
                    content: content, buffer: buffer, frames: frames, offset: offset, mailbox: mailbox,
                    slot: transfer.slot, generation: transfer.generation))
            return false
        }
        framesRead(extended, for: transfer)
        return true
    }

    /// The blocks of `frames` are in the buffer: their DATA headers go into the gaps, and
    /// they are the transfer's read-ahead.
    func framesRead(_ frames: ServerTransfer.DataWindow, for transfer: EngineTransfer) {
        guard let base = transfer.buffer?.base else { return }
        let frameSize = 4 + frames.blockSize
        for index in 0..<frames.count {
            let frame = base + index * frameSize
            frame.storeBytes(of: Opcode.data.rawValue.bigEndian, as: UInt16.self)
            frame.storeBytes(of: frames.block(index).wire.bigEndian, toByteOffset: 2, as: UInt16.self)
        }
        transfer.cachedFirst = frames.first
        transfer.cachedCount = frames.count
        transfer.cachedFrameSize = frameSize
    }

    /// A reader thread finished the transfer's read: the window the machine wants now goes
    /// out (reading further ahead if it has moved past these frames).
    func readCompleted(_ transfer: EngineTransfer, failure: ContentError?, now: NIODeadline) {
        guard let read = transfer.readInFlight else { return }
        transfer.readInFlight = nil
        if let failure {
            return perform(transfer.endpoint.transfer.contentFailed(failure), for: transfer, now: now)
        }
        framesRead(read, for: transfer)
        guard let window = transfer.windowAfterRead else { return }
        transfer.windowAfterRead = nil
        do {
            try send(window, for: transfer)
        } catch {
            perform(transfer.endpoint.transfer.contentFailed(error), for: transfer, now: now)
        }
    }

    /// Sends the window's datagrams from the `sent`-th on: GSO messages, one sendmmsg per
    /// 64 messages. EAGAIN keeps the rest pending; other errors lose the datagrams (the
    /// retransmission timer covers them), except that a refused GSO is retried without it.
    func transmit(_ window: ServerTransfer.DataWindow, from sent: Int, for transfer: EngineTransfer) {
        let frameSize = 4 + window.blockSize
        guard let base = transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) else { return }
        let last = 4 + window.block(window.count - 1).length
        var sent = sent
        while sent < window.count {
            let result = transfer.client.withSocketAddress { address, length in
                ctftp_send_frames(
                    transfer.socket, address, length, base + sent * frameSize, frameSize, window.count - sent, last,
                    transfer.segmentationOffload ? 1 : 0)
            }
            if result >= 0 {
                sent += Int(result)
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK {
                transfer.pending = .window(window, sent: sent)
                return block(transfer)
            }
            if (error == EMSGSIZE || error == EINVAL || error == EIO) && transfer.segmentationOffload
                && window.count - sent > 1
            {
                transfer.segmentationOffload = false
                continue
            }
            return
        }
    }
}
