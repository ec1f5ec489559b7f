import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs one ``ServerTransfer`` on an event loop: it feeds the machine the client's
/// datagrams and timer events and performs the actions it returns through a
/// ``TransferLink``. No protocol decisions here: only send, read, arm the timer, finish.
///
/// The DATA/ACK loop stays on the event loop (DESIGN: the async channel API costs about
/// 40 µs more per datagram); the transfer's task only awaits ``completion``.
final class TransferSession {
    /// Events the transfer's task sends to the session.
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
    private let completion: EventLoopPromise<Report>
    private var link: (any TransferLink)?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var shutdownTimer: Scheduled<Void>?
    private(set) var isFinished = false

    init(
        machine: ServerTransfer,
        content: Result<ContentReader, ContentError>,
        completion: EventLoopPromise<Report>
    ) {
        self.machine = machine
        self.content = content
        self.completion = completion
    }

    /// Sends the first packet (OACK, DATA 1 or an ERROR) through `link`.
    func start(on link: any TransferLink) {
        self.link = link
        perform(machine.start(content: content.map(\.size), now: .now()))
    }

    /// A datagram from the client.
    func received(_ datagram: ByteBuffer) {
        switch Packet.decode(datagram) {
        case .success(let packet):
            perform(machine.received(packet, now: .now()))
        case .failure:
            perform(machine.receivedMalformed(now: .now()))
        }
    }

    func handle(_ command: Command) {
        switch command {
        case .abort:
            perform(machine.abort())
        case .shutdown(let grace):
            guard !isFinished, shutdownTimer == nil, let loop = link?.eventLoop else { return }
            shutdownTimer = loop.assumeIsolated().scheduleTask(in: grace) { [self] in
                self.perform(self.machine.abort())
            }
        }
    }

    /// The socket closed under the transfer: it cannot go on.
    func linkClosed() {
        if !isFinished { perform(machine.abort()) }
    }

    // MARK: - Performing actions

    private func perform(_ action: ServerTransfer.Action) {
        guard let link else { return }
        switch action {
        case .send(let packet, let deadline):
            link.write(packet.encoded(allocator: link.allocator), segmentSize: nil)
            link.flush()
            arm(deadline, loop: link.eventLoop)
        case .sendWindow(let window, let deadline):
            if let failure = send(window, through: link) {
                perform(machine.contentFailed(failure))
                return
            }
            arm(deadline, loop: link.eventLoop)
        case .armTimer(let deadline):
            arm(deadline, loop: link.eventLoop)
        case .wait:
            break
        case .finish(let outcome, let packet):
            guard !isFinished else { return }
            isFinished = true
            if let packet {
                link.write(packet.encoded(allocator: link.allocator), segmentSize: nil)
                link.flush()
            }
            timer?.cancel()
            shutdownTimer?.cancel()
            completion.succeed(Report(outcome: outcome, options: machine.options, statistics: machine.statistics))
            // The socket (the TID) and the read-ahead go now, not when the task next runs.
            packets = nil
            self.link = nil
            link.finished()
        }
    }

    /// Packets read ahead: DATA packets back to back in one buffer, for blocks
    /// `first..<first + count`. Sending is slicing; a new buffer is read only when a window
    /// runs past it, so a lockstep transfer costs one preadv and one allocation per
    /// ``readAheadBytes``, not per packet. Slices handed to NIO keep the old buffer alive;
    /// it is never written after it is filled.
    private struct Packets {
        var buffer: ByteBuffer
        var first: UInt64
        var count: Int
    }
    private var packets: Packets?

    /// How much is read ahead at once (per transfer, so 1000 transfers hold at most 64 MB).
    static let readAheadBytes = 64 * 1024

    /// Sends a window as one burst: slices of the read-ahead packets, with UDP GSO (Linux
    /// ≥ 4.18: each run of up to 64 packets in 64 KiB is one message whose segment size is
    /// the DATA size, which the kernel cuts into datagrams) or one slice per packet, which
    /// NIO sends with sendmmsg. One flush.
    private func send(_ window: ServerTransfer.DataWindow, through link: any TransferLink) -> ContentError? {
        let frame = 4 + window.blockSize
        let last = window.first + UInt64(window.count)
        let cached = packets.map { window.first >= $0.first && last <= $0.first + UInt64($0.count) } ?? false
        if !cached {
            do {
                packets = try readPackets(from: window, frame: frame, allocator: link.allocator)
            } catch {
                return error
            }
        }
        guard let packets else { return .io(errno: 5) }
        let perSend = window.count > 1 ? Self.segmentsPerSend(frame: frame) : 1
        var start = 0
        while start < window.count {
            let end = min(window.count, start + perSend)
            let offset = Int(window.first - packets.first) * frame + start * frame
            var length = (end - start - 1) * frame
            length += 4 + window.block(end - 1).length
            if let slice = packets.buffer.getSlice(at: packets.buffer.readerIndex + offset, length: length) {
                link.write(slice, segmentSize: end - start > 1 ? frame : nil)
            }
            start = end
        }
        link.flush()
        return nil
    }

    /// Reads the window's blocks and those after it, up to ``readAheadBytes`` and the end
    /// of the content, with one preadv, and writes each DATA header into its gap.
    private func readPackets(
        from window: ServerTransfer.DataWindow, frame: Int, allocator: ByteBufferAllocator
    ) throws(ContentError) -> Packets {
        guard case .success(let reader) = content else { throw .io(errno: 5) }
        let blocksInContent = window.contentSize / Int64(window.blockSize) + 1
        let remaining = Int(max(0, min(Int64(Int.max / 2), blocksInContent - Int64(window.first) + 1)))
        let count = min(remaining, max(window.count, Self.readAheadBytes / frame))
        var extended = window
        extended.count = count
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        for i in 0..<count { lengths.append(extended.block(i).length) }
        var buffer = allocator.buffer(capacity: lengths.reduce(0) { $0 + 4 + $1 })
        try reader.read(into: &buffer, offset: extended.block(0).offset, lengths: lengths, gap: 4)
        var position = buffer.readerIndex
        for i in 0..<count {
            buffer.setInteger(Opcode.data.rawValue, at: position)
            buffer.setInteger(extended.block(i).wire, at: position + 2)
            position += 4 + lengths[i]
        }
        return Packets(buffer: buffer, first: window.first, count: count)
    }

    /// How many DATA packets go in one write: with GSO, as many as fit in 64 segments
    /// and 65,507 bytes of UDP payload; otherwise one.
    private static func segmentsPerSend(frame: Int) -> Int {
        guard gsoAvailable, frame <= 65507 / 2 else { return 1 }
        return max(1, min(64, 65507 / frame))
    }

    /// UDP GSO: Linux only, off with TFTPD_NO_GSO set (for measuring without it).
    private static let gsoAvailable: Bool =
        System.supportsUDPSegmentationOffload && getenv("TFTPD_NO_GSO") == nil

    /// Arms the retransmit timer lazily: an armed timer that fires no later than the new
    /// deadline is kept (the machine re-arms it when it fires early), so the steady DATA/ACK
    /// flow does not reschedule a timer for every packet.
    private func arm(_ deadline: NIODeadline, loop: any EventLoop) {
        if timer != nil, let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = loop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.machine.timerFired(now: .now()))
        }
    }
}
