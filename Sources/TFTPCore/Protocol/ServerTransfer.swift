import NIOCore

/// The server side of one read transfer, as a pure state machine: events in, actions out,
/// time passed in. It never touches a socket, a clock or a file; the driver performs
/// the actions (send, read from the content, arm the timer) and reports what happened.
///
/// Covers RFC 1350 lockstep, the OACK of RFC 2347 and its retransmission, windows of
/// RFC 7440, rollover of block numbers (docs/protocol.md, "Block numbers") and the Sorcerer's
/// Apprentice rule (RFC 1123 §4.2.3.1: only the timer resends, never a duplicate ACK).
public struct ServerTransfer: Sendable {
    /// What the server allows and how it retransmits.
    public struct Configuration: Sendable, Equatable {
        public var limits: NegotiationLimits
        public var retransmit: RetransmitPolicy

        public init(limits: NegotiationLimits = .init(), retransmit: RetransmitPolicy = .init()) {
            self.limits = limits
            self.retransmit = retransmit
        }
    }

    /// How a transfer ended; one of these is logged per transfer.
    public enum Outcome: Equatable, Sendable {
        /// The client acknowledged the last block.
        case completed
        /// The client asked for tsize and ended the transfer with an ERROR after the OACK:
        /// a size probe (EDK2, Intel PXE, iPXE), a normal, successful end.
        case sizeProbe
        /// The client ended the transfer with an ERROR.
        case peerError(code: TFTPErrorCode, message: String)
        /// The request was refused before any data (the ERROR is in the finish action).
        case refused(code: TFTPErrorCode, reason: String)
        /// No progress after the allowed retransmissions.
        case timedOut
        /// The client sent a packet that has no place in a read transfer.
        case protocolViolation(Opcode)
        /// Reading the content failed after the transfer began (the file shrank, I/O error).
        case readFailed(ContentError)
        /// The server ended it (shutdown past its grace period).
        case aborted
    }

    /// A run of DATA blocks to send, read from the content at the offsets it gives.
    public struct DataWindow: Equatable, Sendable {
        /// Absolute index (from 1) of the first block.
        public var first: UInt64
        public var count: Int
        public var blockSize: Int
        public var contentSize: Int64

        /// The wire block number, content offset and payload length of the `i`-th block.
        @inlinable
        public func block(_ i: Int) -> (wire: UInt16, offset: Int64, length: Int) {
            let index = first + UInt64(i)
            let offset = Int64(index - 1) * Int64(blockSize)
            let length = Int(max(0, min(Int64(blockSize), contentSize - offset)))
            return (BlockNumber.wire(index), offset, length)
        }
    }

    /// What the driver must do next.
    public enum Action: Equatable, Sendable {
        /// Send this control packet (the OACK) to the client and arm the timer.
        case send(Packet, deadline: NIODeadline)
        /// Send these DATA blocks to the client as one burst and arm the timer.
        case sendWindow(DataWindow, deadline: NIODeadline)
        /// Nothing to send; (re)arm the timer for this deadline.
        case armTimer(NIODeadline)
        /// Nothing to do.
        case wait
        /// The transfer is over: send `packet` (an ERROR) if there is one, then release
        /// the socket and the file.
        case finish(Outcome, send: Packet?)
    }

    /// Counters for the end-of-transfer log line.
    public struct Statistics: Equatable, Sendable {
        /// Payload bytes acknowledged by the client.
        public var bytesAcknowledged: Int64 = 0
        /// DATA and OACK packets sent again after a timeout.
        public var retransmits = 0
    }

    private enum State: Sendable {
        case idle
        case awaitingOptionAck(sentAt: NIODeadline, resent: Bool)
        /// `base` is the first unacknowledged block, `next` the first block not yet sent.
        case sending(base: UInt64, next: UInt64, sentAt: NIODeadline, resent: Bool)
        case finished(Outcome)
    }

    public let request: Request
    public let configuration: Configuration
    public private(set) var options = Options()
    public private(set) var statistics = Statistics()
    /// Whether the client has acknowledged anything: until it has, the server sends no
    /// more than one packet and its retransmissions (amplification bound).
    public private(set) var peerProven = false
    private var state: State = .idle
    private var contentSize: Int64 = 0
    private var blockCount: UInt64 = 1
    private var timer: RetransmitTimer
    /// When the packet in flight is due to be resent.
    private var retransmitDeadline: NIODeadline?
    /// When a graceful shutdown ends the transfer (``beginShutdown(grace:now:)``).
    private var shutdownDeadline: NIODeadline?

    /// The earliest of the two deadlines: what every action asks the driver to arm.
    private var deadline: NIODeadline? {
        guard let retransmit = retransmitDeadline else { return shutdownDeadline }
        guard let shutdown = shutdownDeadline else { return retransmit }
        return min(retransmit, shutdown)
    }

    public init(request: Request, configuration: Configuration = .init()) {
        self.request = request
        self.configuration = configuration
        self.timer = RetransmitTimer(policy: configuration.retransmit, clientTimeoutSeconds: nil)
    }

    /// The measured round-trip time to the client, once a packet sent once was acknowledged.
    public var roundTripEstimate: TimeAmount? { timer.smoothedRoundTrip }

    /// The outcome once finished.
    public var outcome: Outcome? {
        if case .finished(let outcome) = state { return outcome }
        return nil
    }

    /// Starts the transfer once the driver has opened the content (docs/protocol.md, "Names
    /// and paths": open and authorize before any OACK; PXELINUX hangs on an ERROR after one).
    ///
    /// - `content`: the size in bytes of what will be sent (for netascii, the encoded
    ///   size), or why it cannot be served. Mode "mail" is refused here (RFC 1350 §1).
    public mutating func start(content: Result<Int64, ContentError>, now: NIODeadline) -> Action {
        guard case .idle = state else { return .wait }
        if request.mode == .mail {
            return refuse(code: .illegalOperation, message: "Mail mode not supported", reason: "mail mode")
        }
        let size: Int64
        switch content {
        case .success(let value):
            size = value
        case .failure(let error):
            let (code, message) = error.tftpError
            return refuse(code: code, message: message, reason: error.description)
        }
        contentSize = size
        options = Options.negotiate(request.options, fileSize: size, limits: configuration.limits)
        blockCount = BlockNumber.count(size: size, blockSize: options.blockSize)
        timer = RetransmitTimer(policy: configuration.retransmit, clientTimeoutSeconds: options.timeout)
        if options.acknowledged.isEmpty {
            // RFC 2347 §2: no accepted options, no OACK; DATA 1 answers the RRQ. The window
            // is 1 here: without an accepted windowsize there is no window.
            return sendWindow(from: 1, now: now, isRetransmit: false)
        }
        state = .awaitingOptionAck(sentAt: now, resent: false)
        return arm(.optionAcknowledgement(options.acknowledged), now: now)
    }

    /// A well-formed packet from the client's transfer ID.
    public mutating func received(_ packet: Packet, now: NIODeadline) -> Action {
        // A client that retransmits its request (its first reply was lost or slow) sends it
        // from the same port. In single-port mode it reaches the transfer, not the
        // listener: it is the request being served, not a new one, and is ignored just as
        // the listener ignores it in the normal mode.
        if case .readRequest = packet { return .wait }
        switch state {
        case .idle, .finished:
            return .wait

        case .awaitingOptionAck(let sentAt, let resent):
            switch packet {
            case .ack(0):
                // RFC 2347 §2: ACK 0 confirms the OACK; DATA 1 follows.
                peerProven = true
                timer.progress(rttSample: resent ? nil : now - sentAt)
                return sendWindow(from: 1, now: now, isRetransmit: false)
            case .ack:
                return .wait
            case .error(let code, let message):
                // docs/protocol.md, "Size probes": EDK2, Intel and iPXE ask for tsize, then
                // end with an ERROR after the OACK. That is a probe, not a failure.
                let outcome: Outcome =
                    options.transferSizeRequested ? .sizeProbe : .peerError(code: code, message: message)
                return finish(outcome, send: nil)
            default:
                return violation(packet.opcode)
            }

        case .sending(let base, let next, let sentAt, let resent):
            switch packet {
            case .ack(let wire):
                // The ACK names a block in base-1 ... next-1; anything else is stale.
                guard let acked = BlockNumber.resolve(wire, in: base - 1, next - 1) else { return .wait }
                // A duplicate of the previous ACK: RFC 1123 §4.2.3.1 forbids resending on it.
                guard acked >= base else { return .wait }
                peerProven = true
                statistics.bytesAcknowledged = min(Int64(acked) * Int64(options.blockSize), contentSize)
                if acked == blockCount {
                    timer.progress(rttSample: nil)
                    return finish(.completed, send: nil)
                }
                // Karn's rule: sample only a window that went out once, at its last block.
                let sample: TimeAmount? = (!resent && acked == next - 1) ? now - sentAt : nil
                timer.progress(rttSample: sample)
                // RFC 7440 §4: an ACK inside the window means "got up to here": go on from
                // the next block, whether the rest was lost or is still in flight.
                return sendWindow(from: acked + 1, now: now, isRetransmit: false)
            case .error(let code, let message):
                return finish(.peerError(code: code, message: message), send: nil)
            default:
                return violation(packet.opcode)
            }
        }
    }

    /// A datagram from the client's transfer ID that does not decode: ignored, as a
    /// corrupted packet would be; the timer covers whatever it was meant to say.
    public mutating func receivedMalformed(now: NIODeadline) -> Action {
        .wait
    }

    /// The timer the driver armed has fired. Timers are lazy: a timer that fires before
    /// the current deadline (the deadline moved on since it was armed) is re-armed. Past the
    /// shutdown deadline the transfer ends with ERROR 0; past the retransmit deadline the
    /// packet in flight goes again, or the transfer gives up.
    public mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline else { return .wait }
        if now < deadline { return .armTimer(deadline) }
        if let shutdownDeadline, now >= shutdownDeadline { return abort() }
        switch state {
        case .idle, .finished:
            return .wait
        case .awaitingOptionAck:
            guard timer.timedOut() else { return finish(.timedOut, send: nil) }
            statistics.retransmits += 1
            state = .awaitingOptionAck(sentAt: now, resent: true)
            return arm(.optionAcknowledgement(options.acknowledged), now: now)
        case .sending(let base, _, _, _):
            guard timer.timedOut() else { return finish(.timedOut, send: nil) }
            // RFC 7440 §4: resend the window from the first unacknowledged block.
            return sendWindow(from: base, now: now, isRetransmit: true)
        }
    }

    /// Reading the content for a window failed: ERROR to the client, and the end.
    public mutating func contentFailed(_ error: ContentError) -> Action {
        if case .finished = state { return .wait }
        let (code, message) = error.tftpError
        return finish(.readFailed(error), send: .error(code: code, message: message))
    }

    /// The server ends the transfer (shutdown past its grace period): ERROR 0 to the client.
    public mutating func abort(message: String = "Server shutting down") -> Action {
        switch state {
        case .finished:
            return .wait
        case .idle:
            return finish(.aborted, send: nil)
        case .awaitingOptionAck, .sending:
            return finish(.aborted, send: .error(code: .notDefined, message: message))
        }
    }

    /// Graceful shutdown began (SIGTERM): the transfer may go on for `grace`, then it ends
    /// with ERROR 0 "Server shutting down" so the client does not wait out its timers.
    /// Asking again never extends the deadline; a grace of zero ends the transfer now.
    public mutating func beginShutdown(grace: TimeAmount, now: NIODeadline) -> Action {
        switch state {
        case .finished:
            return .wait
        case .idle:
            return finish(.aborted, send: nil)
        case .awaitingOptionAck, .sending:
            if grace <= .zero { return abort() }
            let limit = now + grace
            if let shutdownDeadline, shutdownDeadline <= limit { return .wait }
            shutdownDeadline = limit
            return deadline.map { .armTimer($0) } ?? .wait
        }
    }

    /// The transfer's socket failed under it (closed, or aborted by the kernel as
    /// `ss -K` does): nothing more can be sent, so the transfer ends without an ERROR.
    public mutating func socketFailed() -> Action {
        if case .finished = state { return .wait }
        return finish(.aborted, send: nil)
    }

    /// The answer to a datagram from anyone but the client on this transfer's port:
    /// ERROR 5, and nothing changes (RFC 1350 §4; docs/protocol.md, "Who gets an answer").
    /// An ERROR or a datagram that does not decode gets no answer: no error answers an
    /// error, and garbage is not reflected.
    public static func replyToStranger(_ decoded: Result<Packet, PacketDecodingError>) -> Packet? {
        switch decoded {
        case .success(.error), .failure:
            return nil
        case .success:
            return .error(code: .unknownTransferID, message: "Unknown transfer ID")
        }
    }

    // MARK: - Helpers

    private mutating func sendWindow(from first: UInt64, now: NIODeadline, isRetransmit: Bool) -> Action {
        let count = Int(min(UInt64(options.windowSize), blockCount - first + 1))
        if isRetransmit { statistics.retransmits += count }
        state = .sending(base: first, next: first + UInt64(count), sentAt: now, resent: isRetransmit)
        let window = DataWindow(first: first, count: count, blockSize: options.blockSize, contentSize: contentSize)
        retransmitDeadline = timer.deadline(after: now)
        return .sendWindow(window, deadline: deadline ?? now)
    }

    private mutating func arm(_ packet: Packet, now: NIODeadline) -> Action {
        retransmitDeadline = timer.deadline(after: now)
        return .send(packet, deadline: deadline ?? now)
    }

    private mutating func refuse(code: TFTPErrorCode, message: String, reason: String) -> Action {
        finish(.refused(code: code, reason: reason), send: .error(code: code, message: message))
    }

    private mutating func violation(_ opcode: Opcode) -> Action {
        finish(.protocolViolation(opcode), send: .error(code: .illegalOperation, message: "Illegal TFTP operation"))
    }

    private mutating func finish(_ outcome: Outcome, send packet: Packet?) -> Action {
        state = .finished(outcome)
        retransmitDeadline = nil
        shutdownDeadline = nil
        return .finish(outcome, send: packet)
    }
}
