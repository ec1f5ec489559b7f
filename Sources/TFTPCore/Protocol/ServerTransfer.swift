import NIOCore

/// The server side of one read transfer, as a pure state machine: events in, actions out,
/// time passed in. It never touches a socket, a clock or a file; the driver performs
/// the actions (send, read from the content, arm the timer) and reports what happened.
///
/// Covers RFC 1350 lockstep, the OACK of RFC 2347 and its retransmission, windows of
/// RFC 7440, rollover of block numbers (docs/protocol.md, "Block numbers") and the Sorcerer's
/// Apprentice rule (RFC 1123 §4.2.3.1: only the timer resends, never a duplicate ACK).
///
/// Until the client has proved its address by acknowledging the first packet (the OACK,
/// or DATA 1), the request may be a spoofed one and the packets go to a victim: the machine
/// sends the first packet, at most ``RetransmitPolicy/unprovenRetransmits`` timer
/// retransmissions of it, and one more for each repeat of the request (a client whose first
/// answer was lost asks again). Then it falls silent and suspends: the driver gives the
/// transfer's slot back, and the machine only listens, for ``Configuration/suspension``, for
/// the late ACK of a client that re-sends its ACK on its own timer (curl after 72 s); that
/// ACK resumes the transfer (docs/protocol.md, "Requests nobody acknowledges").
public struct ServerTransfer: Sendable {
    /// What the server allows and how it retransmits.
    public struct Configuration: Sendable, Equatable {
        public var limits: NegotiationLimits
        public var retransmit: RetransmitPolicy
        /// How long a transfer whose client never acknowledged its first packet keeps
        /// listening, silent and without a slot, for a late ACK.
        public var suspension: TimeAmount

        public init(
            limits: NegotiationLimits = .init(), retransmit: RetransmitPolicy = .init(),
            suspension: TimeAmount = .seconds(90)
        ) {
            self.limits = limits
            self.retransmit = retransmit
            self.suspension = suspension
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
        /// The client never acknowledged the first packet, nor late while the transfer was
        /// suspended: a client that went away, or a spoofed request.
        case unacknowledged
        /// The client asked for something else from the same address and port: it has moved
        /// on (its process ended and the port was handed to the next one, or it gave up on
        /// this transfer), so this one ends silently (docs/protocol.md, "Transfer IDs and
        /// repeated requests").
        case superseded
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
        /// Send this control packet (the OACK) to the client and arm the estimator.
        case send(Packet, deadline: NIODeadline)
        /// Send these DATA blocks to the client as one burst and arm the estimator.
        case sendWindow(DataWindow, deadline: NIODeadline)
        /// Nothing to send; (re)arm the timer for this deadline.
        case armTimer(NIODeadline)
        /// Nothing to do.
        case wait
        /// The client has not proved its address and the unproven budget is spent: send
        /// nothing more, give the transfer's slot back (its file and socket stay), and arm
        /// the timer for the end of the suspension. A later event may resume the transfer:
        /// the driver takes a slot again before handing an event from the client to a
        /// suspended machine, and gives it back if ``isSuspended`` is still true after it.
        case suspend(until: NIODeadline)
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
        /// Silent, waiting for the unproven client's ACK of the first packet.
        case suspended
        case finished(Outcome)
    }

    public let request: Request
    public let configuration: Configuration
    public private(set) var options = NegotiatedOptions()
    public private(set) var statistics = Statistics()
    /// Whether the client has acknowledged anything: until it has, the server sends no
    /// more than one packet and its retransmissions (amplification bound).
    public private(set) var peerProven = false
    private var state: State = .idle
    /// The size of what is sent (known once started).
    public private(set) var contentSize: Int64 = 0
    private var blockCount: UInt64 = 1
    private var estimator: RetransmitEstimator
    /// Timer retransmissions sent before the client proved its address.
    private var unprovenRetransmits = 0
    /// When the first packet last went out (a repeated request inside the minimum timeout
    /// is a duplicate in the network, not a client asking again).
    private var lastFirstSend: NIODeadline?
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
        self.estimator = RetransmitEstimator(policy: configuration.retransmit, clientTimeoutSeconds: nil)
    }

    /// The measured round-trip time to the client, once a packet sent once was acknowledged.
    public var roundTripEstimate: TimeAmount? { estimator.smoothedRoundTrip }

    /// Whether the machine is suspended: silent, without a slot, listening for a late ACK.
    public var isSuspended: Bool {
        if case .suspended = state { return true }
        return false
    }

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
        options = NegotiatedOptions.negotiate(request.options, fileSize: size, limits: configuration.limits)
        blockCount = BlockNumber.count(size: size, blockSize: options.blockSize)
        estimator = RetransmitEstimator(policy: configuration.retransmit, clientTimeoutSeconds: options.timeout)
        return sendFirst(now: now, isRetransmit: false)
    }

    /// The first packet: the OACK, or without accepted options DATA 1 (RFC 2347 §2). The
    /// window is 1 there: without an accepted windowsize there is no window.
    private mutating func sendFirst(now: NIODeadline, isRetransmit: Bool) -> Action {
        lastFirstSend = now
        if options.acknowledged.isEmpty {
            return sendWindow(from: 1, now: now, isRetransmit: isRetransmit)
        }
        if isRetransmit { statistics.retransmits += 1 }
        state = .awaitingOptionAck(sentAt: now, resent: isRetransmit)
        return arm(.optionAcknowledgement(options.acknowledged), now: now)
    }

    /// A well-formed packet from the client's transfer ID.
    public mutating func received(_ packet: Packet, now: NIODeadline) -> Action {
        if case .readRequest(let repeated) = packet { return receivedRepeat(repeated, now: now) }
        switch state {
        case .idle, .finished:
            return .wait

        case .suspended:
            switch packet {
            case .ack(0) where !options.acknowledged.isEmpty:
                // The late ACK of the OACK: the client is real after all.
                state = .awaitingOptionAck(sentAt: now, resent: true)
                return received(packet, now: now)
            case .ack(1) where options.acknowledged.isEmpty:
                state = .sending(base: 1, next: 2, sentAt: now, resent: true)
                return received(packet, now: now)
            case .ack:
                return .wait
            case .error(let code, let message):
                let outcome: Outcome =
                    options.transferSizeRequested && !options.acknowledged.isEmpty
                    ? .sizeProbe : .peerError(code: code, message: message)
                return finish(outcome, send: nil)
            default:
                // Not proven: nothing is sent to the address, not even an ERROR.
                return .wait
            }

        case .awaitingOptionAck(let sentAt, let resent):
            switch packet {
            case .ack(0):
                // RFC 2347 §2: ACK 0 confirms the OACK; DATA 1 follows.
                peerProven = true
                estimator.progress(rttSample: resent ? nil : now - sentAt)
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
                    estimator.progress(rttSample: nil)
                    return finish(.completed, send: nil)
                }
                // Karn's rule: sample only a window that went out once, at its last block.
                let sample: TimeAmount? = (!resent && acked == next - 1) ? now - sentAt : nil
                estimator.progress(rttSample: sample)
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
        case .suspended:
            return finish(.unacknowledged, send: nil)
        case .awaitingOptionAck:
            // An OACK waiting for its ACK: the client is unproven by definition.
            return unprovenTimeout(now: now)
        case .sending(base: 1, _, _, _) where !peerProven:
            return unprovenTimeout(now: now)
        case .sending(let base, _, _, _):
            guard estimator.timedOut() else { return finish(.timedOut, send: nil) }
            // RFC 7440 §4: resend the window from the first unacknowledged block.
            return sendWindow(from: base, now: now, isRetransmit: true)
        }
    }

    /// The first packet's timer fired and the client has not proved its address: the
    /// packet goes again a bounded number of times, then the machine falls silent.
    private mutating func unprovenTimeout(now: NIODeadline) -> Action {
        guard unprovenRetransmits < configuration.retransmit.unprovenRetransmits, estimator.timedOut() else {
            state = .suspended
            retransmitDeadline = now + configuration.suspension
            return .suspend(until: self.deadline ?? now)
        }
        unprovenRetransmits += 1
        return sendFirst(now: now, isRetransmit: true)
    }

    /// Reading the content for a window failed: ERROR to the client, and the end.
    public mutating func contentFailed(_ error: ContentError) -> Action {
        if case .finished = state { return .wait }
        let (code, message) = error.tftpError
        return finish(.readFailed(error), send: .error(code: code, message: message))
    }

    /// The server ends the transfer (shutdown past its grace period): ERROR 0 to the
    /// client, so it does not wait out its timers; a suspended transfer ends silently.
    public mutating func abort(message: String = "Server shutting down") -> Action {
        switch state {
        case .finished:
            return .wait
        case .idle, .suspended:
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
        case .idle, .suspended:
            return finish(.aborted, send: nil)
        case .awaitingOptionAck, .sending:
            if grace <= .zero { return abort() }
            let limit = now + grace
            if let shutdownDeadline, shutdownDeadline <= limit { return .wait }
            shutdownDeadline = limit
            return deadline.map { .armTimer($0) } ?? .wait
        }
    }

    /// The driver ends a suspension early (it keeps only so many suspended transfers, or
    /// the same client address and port asked for another file): the transfer ends as
    /// unacknowledged, silently.
    public mutating func endSuspension() -> Action {
        guard isSuspended else { return .wait }
        return finish(.unacknowledged, send: nil)
    }

    /// What another request from this transfer's client address and port means
    /// (docs/protocol.md, "Transfer IDs and repeated requests"). RFC 1350 gives each request
    /// its own transfer ID, and the client keeps the ID of the first answer it took; so a
    /// request can only end a transfer its client has not vouched for.
    public enum SamePortRequest: Equatable, Sendable {
        /// The same request before the client acknowledged anything: its first answer was
        /// lost and it asked again. The machine answers it (``received(_:now:)``).
        case repeated
        /// Another request before the client acknowledged anything: the client has moved on
        /// (a new process on a reused port, a client that gave up, or a spoofer), and this
        /// transfer yields to it (``supersede()``).
        case supersedes
        /// The same request after the client acknowledged only the first packet: the
        /// network's late copy of the request that started this transfer. Nothing to do.
        case lateCopy
        /// Any request once the client has acknowledged this transfer (the same one past its
        /// first packet: a client that rebooted and starts over from the same port, as
        /// PXELINUX does): a new transfer beside this one, from another transfer ID. This
        /// one goes on; the client's old self keeps its ID, its new self takes the new one.
        case beside
    }

    /// Judges another request from this transfer's client address and port; pure.
    public func judge(_ other: Request) -> SamePortRequest {
        guard peerProven else { return other == request ? .repeated : .supersedes }
        guard other == request else { return .beside }
        return acknowledgedPastFirstPacket ? .beside : .lateCopy
    }

    /// Whether the client has acknowledged more than the first packet (the OACK, or DATA 1
    /// without options): by then a copy of its first request cannot still be on its way.
    var acknowledgedPastFirstPacket: Bool {
        switch state {
        case .sending(let base, _, _, _): base > (options.acknowledged.isEmpty ? 2 : 1)
        case .finished(.completed): true
        default: false
        }
    }

    /// The same client address and port asked for something else (``Outcome/superseded``):
    /// the transfer ends without a word, since the client's port now belongs to its new
    /// request and an ERROR there would end that one.
    public mutating func supersede() -> Action {
        if case .finished = state { return .wait }
        return finish(.superseded, send: nil)
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

    /// The client asked again from the same address and port. Before it has proved its
    /// address, its first answer was lost: the first packet goes again, once per repeat
    /// (a copy arriving within the minimum timeout of the last send is the network's
    /// duplicate and changes nothing). A suspended transfer sends it too and waits again.
    /// Once the client has acknowledged something, or if it asks for something else, the
    /// repeat is ignored, as the listener ignores it.
    private mutating func receivedRepeat(_ repeated: Request, now: NIODeadline) -> Action {
        guard !peerProven, repeated == request else { return .wait }
        switch state {
        case .awaitingOptionAck, .sending, .suspended:
            if let lastFirstSend, now - lastFirstSend < configuration.retransmit.minimumTimeout,
                !isSuspended
            {
                return .wait
            }
            return sendFirst(now: now, isRetransmit: true)
        case .idle, .finished:
            return .wait
        }
    }

    // MARK: - Helpers

    private mutating func sendWindow(from first: UInt64, now: NIODeadline, isRetransmit: Bool) -> Action {
        let count = Int(min(UInt64(options.windowSize), blockCount - first + 1))
        if isRetransmit { statistics.retransmits += count }
        state = .sending(base: first, next: first + UInt64(count), sentAt: now, resent: isRetransmit)
        let window = DataWindow(first: first, count: count, blockSize: options.blockSize, contentSize: contentSize)
        retransmitDeadline = estimator.deadline(after: now)
        return .sendWindow(window, deadline: deadline ?? now)
    }

    private mutating func arm(_ packet: Packet, now: NIODeadline) -> Action {
        retransmitDeadline = estimator.deadline(after: now)
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
