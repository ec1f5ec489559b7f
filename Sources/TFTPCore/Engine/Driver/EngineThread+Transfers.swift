import CTFTPShims
import Glibc
import Logging
import NIOCore

/// An engine thread's transfers: their datagrams, reading ahead and sending windows.
extension EngineThread {
    /// Reads one datagram from the transfer's socket and hands it to the core; false when
    /// none waited. One per readiness: a transfer socket has at most one ACK waiting, and
    /// epoll (level-triggered) reports anything else on the next turn.
    @discardableResult
    func readTransfer(_ transfer: EngineTransfer, now: NIODeadline) -> Bool {
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        let source = sources + Self.receiveBatch
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = recvfrom(
            transfer.descriptor, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT),
            UnsafeMutableRawPointer(source).assumingMemoryBound(to: sockaddr.self), &length)
        let slot = transfer.slot
        if count < 0 {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return false }
            react(now: now) { $0.socketFailed(slot: slot, errno: error, now: now, into: &$1) }
            return false
        }
        guard let address = PeerAddress(source, length: length), address.isAcceptableClient else { return true }
        let decoded = Packet.decode(UnsafeRawBufferPointer(start: buffer, count: count))
        react(now: now) { $0.transferDatagram(slot: slot, decoded, from: address, now: now, into: &$1) }
        return true
    }

    /// Reads what waits on the running transfer's socket before the core judges a request
    /// from its client (a few datagrams at most).
    func drain(_ slot: Int, now: NIODeadline) {
        guard let transfer = io[slot] else { return }
        for _ in 0..<8 {
            guard io[slot] === transfer, readTransfer(transfer, now: now) else { return }
        }
    }

    /// The transfer fell silent: nothing it had pending goes, its read-ahead goes (a read in
    /// flight keeps its buffer until it is done, and sends nothing after).
    func suspended(_ transfer: EngineTransfer) {
        if settings.logger.logLevel <= .debug {
            settings.logger.debug(
                "suspended: the client has not acknowledged the first packet",
                metadata: ["client": "\(transfer.client.display)"])
        }
        if case .reading(let blocks, _) = transfer.sending {
            transfer.sending = .reading(blocks, then: nil)
        } else {
            setSending(transfer, .idle)
            transfer.dropFrames()
        }
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
    func send(_ window: ServerTransfer.DataWindow, for transfer: EngineTransfer, now: NIODeadline)
        throws(ContentError)
    {
        if case .reading(let blocks, _) = transfer.sending {
            transfer.sending = .reading(blocks, then: window)
            return
        }
        setSending(transfer, .idle)
        let frameSize = Packet.dataHeaderSize + window.blockSize
        if transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) == nil {
            guard try readAhead(from: window, for: transfer, now: now) else { return }
        }
        transmit(window, from: 0, for: transfer)
    }

    /// Reads the window's blocks and those after it, up to the read-ahead size and the
    /// end of the content, with one preadv that does not wait for the device. If the bytes
    /// are not in the page cache, a reader thread reads them and this returns false (the
    /// window goes when the read is done). The read that reaches the end of the file, and
    /// one a second before that, checks that the file is still the version that was opened
    /// (``VersionCheck``).
    func readAhead(from window: ServerTransfer.DataWindow, for transfer: EngineTransfer, now: NIODeadline)
        throws(ContentError) -> Bool
    {
        guard let content = transfer.content else { throw .io(errno: EIO) }
        let frameSize = Packet.dataHeaderSize + window.blockSize
        let blocksInContent = UInt64(window.contentSize / Int64(window.blockSize)) + 1
        let left = Int(min(blocksInContent - window.first + 1, UInt64(Int32.max)))
        // A file still arriving is read a window at a time: what lies beyond it may not have
        // landed yet.
        var readAhead = settings.readAheadBytes
        if case .arriving(let arriving, _) = content, !arriving.isComplete { readAhead = 0 }
        let count = min(left, max(window.count, readAhead / frameSize, 1))
        if (transfer.buffer?.capacity ?? 0) < count * frameSize {
            transfer.buffer = FrameBuffer(capacity: count * frameSize)
        }
        guard let buffer = transfer.buffer else { throw .io(errno: ENOMEM) }
        var extended = window
        extended.count = count
        transfer.cachedCount = 0
        let frames = ContentFile.Frames(
            gap: Packet.dataHeaderSize, chunk: window.blockSize, count: count, last: extended.block(count - 1).length)
        let offset = extended.block(0).offset
        var verify = false
        if case .file(let file) = content {
            verify = transfer.versionCheck.due(
                readingUpTo: offset + Int64(frames.payloadCount), of: file.size, now: now.uptimeNanoseconds)
        }
        if case .arriving(let arriving, _) = content {
            // Bytes still landing are read when they have; nothing goes to a reader thread.
            guard try content.readFrames(into: buffer.base, frames: frames, offset: offset) else {
                waitForArrival(window, of: arriving, for: transfer)
                return false
            }
            framesRead(extended, for: transfer)
            return true
        }
        let deferred: Bool
        if case .file = content, settings.deferEveryRead {
            deferred = true
        } else {
            deferred = try !content.readFrames(
                into: buffer.base, frames: frames, offset: offset, cachedOnly: true, verify: verify)
        }
        guard !deferred else {
            transfer.sending = .reading(extended, then: window)
            settings.metrics.tftp.coldRead()
            if settings.logger.logLevel <= .debug {
                settings.logger.debug(
                    "read waits for the device",
                    metadata: ["client": "\(transfer.client.display)", "block": "\(window.first)"])
            }
            reads.submit(
                .init(
                    content: content, buffer: buffer, frames: frames, offset: offset, verify: verify,
                    mailbox: mailbox, slot: transfer.slot, generation: transfer.generation))
            return false
        }
        framesRead(extended, for: transfer)
        return true
    }

    /// The blocks of `frames` are in the buffer: their DATA headers go into the gaps, and
    /// they are the transfer's read-ahead.
    func framesRead(_ frames: ServerTransfer.DataWindow, for transfer: EngineTransfer) {
        guard let base = transfer.buffer?.base else { return }
        let frameSize = Packet.dataHeaderSize + frames.blockSize
        for index in 0..<frames.count {
            Packet.storeDataHeader(block: frames.block(index).wire, at: base + index * frameSize)
        }
        transfer.cachedFirst = frames.first
        transfer.cachedCount = frames.count
        transfer.cachedFrameSize = frameSize
    }

    /// A reader thread finished the transfer's read: the window the machine wants now goes
    /// out (reading further ahead if it has moved past these frames). A transfer that fell
    /// silent meanwhile keeps nothing.
    func readCompleted(_ transfer: EngineTransfer, failure: ContentError?, now: NIODeadline) {
        guard case .reading(let read, let then) = transfer.sending else { return }
        transfer.sending = .idle
        let slot = transfer.slot
        if let failure {
            return react(now: now) { $0.contentFailed(slot: slot, failure, now: now, into: &$1) }
        }
        guard let window = then else { return transfer.dropFrames() }
        framesRead(read, for: transfer)
        do {
            try send(window, for: transfer, now: now)
        } catch {
            react(now: now) { $0.contentFailed(slot: slot, error, now: now, into: &$1) }
        }
    }

    /// Sends the window's datagrams from the `sent`-th on: GSO messages, one sendmmsg per
    /// 64 messages. EAGAIN keeps the rest pending; other errors lose the datagrams (the
    /// retransmission timer covers them), except that a refused GSO is retried without it.
    func transmit(_ window: ServerTransfer.DataWindow, from sent: Int, for transfer: EngineTransfer) {
        let frameSize = Packet.dataHeaderSize + window.blockSize
        guard let base = transfer.cachedFrame(window.first, count: window.count, frameSize: frameSize) else { return }
        let last = Packet.dataHeaderSize + window.block(window.count - 1).length
        var sent = sent
        while sent < window.count {
            let result = transfer.client.withSocketAddress { address, length in
                ctftp_send_frames(
                    transfer.descriptor, address, length, base + sent * frameSize, frameSize, window.count - sent,
                    last, transfer.segmentationOffload ? 1 : 0)
            }
            if result >= 0 {
                sent += Int(result)
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK {
                return setSending(transfer, .blocked(.window(window, sent: sent)))
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
