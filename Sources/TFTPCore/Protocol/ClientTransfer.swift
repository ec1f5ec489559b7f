import NIOCore

/// The client side of one read transfer: the mirror of ``ServerTransfer``, pure.
///
/// Strict about what the server answers (an OACK may only narrow what was asked:
/// RFC 2347 §2, RFC 2348, RFC 2349, RFC 7440 §3) and forgiving about the network:
/// duplicates and reordering are handled per RFC 7440 §4, lost packets by the estimator.
public struct ClientTransfer: Sendable {
    /// What the client asks for and how patient it is.
    public struct Configuration: Sendable, Equatable {
        public var mode: TransferMode
        /// RFC 2348 blksize to ask for; nil leaves the option out (512 bytes).
        public var blockSize: Int?
        /// RFC 7440 windowsize to ask for; nil leaves the option out (lockstep).
        public var windowSize: Int?
        /// RFC 2349 timeout (seconds) to ask for; nil leaves the option out.
        public var timeoutSeconds: Int?
        /// Ask for tsize and check the received length against it.
        public var requestSize: Bool
        public var retransmit: RetransmitPolicy
        /// How long to stay after the final ACK to re-send it if the server repeats its
        /// last block (RFC 1350 §6 "dallying").
        public var dally: TimeAmount
        /// The order the options go in the RRQ (names as sent; those not asked are skipped):
        /// firmware send them in their own order, and a server may care.
        public var optionOrder: [String]
        /// A size probe, as EDK2 and Intel's PXE do before a fetch: ask, read the OACK (its
        /// tsize), and end with ERROR 8 "User aborted the transfer" instead of ACK 0.
        public var probe: Bool

        /// Options in the order this client sends them unless told otherwise.
        public static let defaultOptionOrder = ["blksize", "timeout", "tsize", "windowsize"]

        public init(
            mode: TransferMode = .octet,
            blockSize: Int? = nil,
            windowSize: Int? = nil,
            timeoutSeconds: Int? = nil,
            requestSize: Bool = false,
            retransmit: RetransmitPolicy = .init(initialTimeout: .milliseconds(500), maxRetries: 6),
            dally: TimeAmount = .milliseconds(500),
            optionOrder: [String] = Configuration.defaultOptionOrder,
            probe: Bool = false
        ) {
            self.mode = mode
            self.blockSize = blockSize
            self.windowSize = windowSize
            self.timeoutSeconds = timeoutSeconds
            self.requestSize = requestSize
            self.retransmit = retransmit
            self.dally = dally
            self.optionOrder = optionOrder
            self.probe = probe
        }
    }

    /// How the transfer ended.
    public enum Outcome: Equatable, Sendable {
        case completed(bytes: Int64)
        /// The server sent an ERROR.
        case serverError(code: TFTPErrorCode, message: String)
        /// The server's OACK was unacceptable; ERROR 8 was sent.
        case optionsRejected(OptionProblem)
        /// The server broke the protocol (oversize DATA, a size other than its tsize, ...).
        case protocolError(Violation)
        case timedOut
        /// The received bytes could not be stored (disk full, closed pipe); the server
        /// was told with an ERROR.
        case localFailure(SinkError)
        /// The user stopped the transfer; the server was told with an ERROR.
        case cancelled
        /// A size probe ended as asked: the server's answer was read and ERROR 8 sent.
        /// `size` is its tsize (nil if it did not answer one).
        case probed(size: Int64?)
    }

    /// What the driver must do next.
    public enum Action: Equatable, Sendable {
        /// Send this packet and arm the estimator.
        case send(Packet, deadline: NIODeadline)
        /// Append the payload to the output, send `ack` if there is one, arm the estimator.
        case deliver(ByteBuffer, ack: Packet?, deadline: NIODeadline)
        /// Nothing to send; arm the timer for this deadline.
        case armTimer(NIODeadline)
        case wait
        /// Done: send `packet` if there is one (an ERROR or nothing) and stop.
        case finish(Outcome, send: Packet?)
    }

    private enum State: Sendable {
        case idle
        case requested(sentAt: NIODeadline, resent: Bool)
        /// `next` is the absolute index of the block expected next.
        case receiving(next: UInt64, sinceAck: Int, gapAcked: Bool)
        case dallying(lastWire: UInt16, bytes: Int64)
        case finished(Outcome)
    }

    public let filename: [UInt8]
    public let configuration: Configuration
    /// What the server granted; defaults until an OACK arrives.
    public private(set) var blockSize = NegotiatedOptions.defaultBlockSize
    public private(set) var windowSize = 1
    /// The size the server announced in its OACK (tsize), if any.
    public private(set) var announcedSize: Int64?
    /// Whether the server answered with an OACK (false: it ignored our options).
    public private(set) var optionsAcknowledged = false
    public private(set) var bytesReceived: Int64 = 0
    /// ACKs and RRQs sent again after a timeout.
    public private(set) var retransmits = 0
    /// When the final (short) block arrived.
    public private(set) var lastBlockReceivedAt: NIODeadline?
    private var state: State = .idle
    private var estimator: RetransmitEstimator
    private var lastSent: Packet?
    private var deadline: NIODeadline?

    public init(filename: [UInt8], configuration: Configuration = .init()) {
        self.filename = filename
        self.configuration = configuration
        self.estimator = RetransmitEstimator(
            policy: configuration.retransmit, clientTimeoutSeconds: configuration.timeoutSeconds)
    }

    /// The outcome once finished.
    public var outcome: Outcome? {
        if case .finished(let outcome) = state { return outcome }
        return nil
    }

    /// The RRQ options, in ``Configuration/optionOrder``.
    public var requestedOptions: [TransferOption] {
        var values: [String: String] = [:]
        if let blockSize = configuration.blockSize { values["blksize"] = String(blockSize) }
        if let timeout = configuration.timeoutSeconds { values["timeout"] = String(timeout) }
        if configuration.requestSize { values["tsize"] = "0" }
        if let window = configuration.windowSize { values["windowsize"] = String(window) }
        var options: [TransferOption] = []
        for name in configuration.optionOrder + Configuration.defaultOptionOrder {
            guard let value = values.removeValue(forKey: name) else { continue }
            options.append(.init(name: name, value: value))
        }
        return options
    }

    /// EDK2's words when it ends its size probe (the firmware tests' captures).
    public static let probeEnd = Packet.error(code: .optionRefused, message: "User aborted the transfer")

    /// Sends the RRQ.
    public mutating func start(now: NIODeadline) -> Action {
        guard case .idle = state else { return .wait }
        state = .requested(sentAt: now, resent: false)
        let request = Request(filename: filename, mode: configuration.mode, options: requestedOptions)
        return send(.readRequest(request), now: now)
    }

    /// A well-formed packet from the server's transfer ID.
    public mutating func received(_ packet: Packet, now: NIODeadline) -> Action {
        switch state {
        case .idle, .finished:
            return .wait

        case .requested(let sentAt, let resent):
            switch packet {
            case .optionAcknowledgement(let options):
                if let problem = accept(options) {
                    return finish(
                        .optionsRejected(problem),
                        send: .error(code: .optionRefused, message: "Unacceptable option: \(problem)")
                    )
                }
                optionsAcknowledged = true
                estimator.progress(rttSample: resent ? nil : now - sentAt)
                if configuration.probe { return finish(.probed(size: announcedSize), send: Self.probeEnd) }
                state = .receiving(next: 1, sinceAck: 0, gapAcked: false)
                return send(.ack(block: 0), now: now)
            case .data:
                // A probe answered with DATA: the server ignored the options; no size.
                if configuration.probe { return finish(.probed(size: nil), send: Self.probeEnd) }
                // DATA without an OACK: the server ignored our options (RFC 2347 §2).
                estimator.progress(rttSample: resent ? nil : now - sentAt)
                state = .receiving(next: 1, sinceAck: 0, gapAcked: false)
                return received(packet, now: now)
            case .error(let code, let message):
                return finish(.serverError(code: code, message: message), send: nil)
            default:
                return protocolError(.unexpectedAnswer(packet.opcode))
            }

        case .receiving(let next, let sinceAck, let gapAcked):
            switch packet {
            case .data(let wire, let payload):
                return receivedData(
                    wire: wire, payload: payload, next: next, sinceAck: sinceAck, gapAcked: gapAcked, now: now)
            case .error(let code, let message):
                return finish(.serverError(code: code, message: message), send: nil)
            case .optionAcknowledgement:
                // Our ACK 0 was lost and the server resent its OACK: acknowledge again.
                return next == 1 ? send(.ack(block: 0), now: now) : .wait
            default:
                return protocolError(.unexpectedDuringTransfer(packet.opcode))
            }

        case .dallying(let lastWire, _):
            // The server repeats its last block: our final ACK was lost. Send it again.
            if case .data(lastWire, _) = packet {
                let ack = Packet.ack(block: lastWire)
                lastSent = ack
                return .deliver(ByteBuffer(), ack: ack, deadline: deadline ?? now)
            }
            return .wait
        }
    }

    private mutating func receivedData(
        wire: UInt16,
        payload: ByteBuffer,
        next: UInt64,
        sinceAck: Int,
        gapAcked: Bool,
        now: NIODeadline
    ) -> Action {
        guard wire == BlockNumber.wire(next) else {
            // A duplicate or a block past a gap: acknowledge the last in-order block at
            // once (RFC 7440 §4), once per gap, so the server resends from there. In
            // lockstep this re-ACKs a block whose ACK was lost.
            guard !gapAcked || windowSize == 1 else { return .wait }
            state = .receiving(next: next, sinceAck: 0, gapAcked: true)
            return send(.ack(block: BlockNumber.wire(next - 1)), now: now)
        }
        guard payload.readableBytes <= blockSize else {
            return protocolError(.oversizedBlock(block: wire, bytes: payload.readableBytes, blockSize: blockSize))
        }
        bytesReceived += Int64(payload.readableBytes)
        estimator.progress(rttSample: nil)
        if payload.readableBytes < blockSize {
            // In netascii servers differ on what tsize counts (tftp-hpa and atftpd: the
            // size on disk; tftpd: the encoded size), so only an octet transfer is held to it.
            if let announcedSize, configuration.requestSize, configuration.mode == .octet,
                announcedSize != bytesReceived
            {
                return protocolError(.sizeMismatch(received: bytesReceived, announced: announcedSize))
            }
            let ack = Packet.ack(block: wire)
            lastSent = ack
            lastBlockReceivedAt = now
            state = .dallying(lastWire: wire, bytes: bytesReceived)
            let deadline = now + configuration.dally
            self.deadline = deadline
            return .deliver(payload, ack: ack, deadline: deadline)
        }
        let received = sinceAck + 1
        if received >= windowSize {
            state = .receiving(next: next + 1, sinceAck: 0, gapAcked: false)
            let ack = Packet.ack(block: wire)
            lastSent = ack
            let deadline = estimator.deadline(after: now)
            self.deadline = deadline
            return .deliver(payload, ack: ack, deadline: deadline)
        }
        state = .receiving(next: next + 1, sinceAck: received, gapAcked: false)
        let deadline = estimator.deadline(after: now)
        self.deadline = deadline
        return .deliver(payload, ack: nil, deadline: deadline)
    }

    /// The timer fired: re-send the last packet with backoff, or give up. After the final
    /// ACK, the end of the dally completes the transfer.
    public mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline else { return .wait }
        if now < deadline { return .armTimer(deadline) }
        switch state {
        case .idle, .finished:
            return .wait
        case .dallying(_, let bytes):
            return finish(.completed(bytes: bytes), send: nil)
        case .requested, .receiving:
            guard estimator.timedOut() else { return finish(.timedOut, send: nil) }
            retransmits += 1
            if case .requested(let sentAt, _) = state { state = .requested(sentAt: sentAt, resent: true) }
            if case .receiving(let next, _, _) = state, windowSize > 1 {
                // Windowed: tell the server where we are, so it resends from there.
                state = .receiving(next: next, sinceAck: 0, gapAcked: false)
                return send(.ack(block: BlockNumber.wire(next - 1)), now: now)
            }
            guard let lastSent else { return finish(.timedOut, send: nil) }
            return send(lastSent, now: now)
        }
    }

    /// The driver could not store delivered bytes: end the transfer and tell the server,
    /// so it does not retransmit into the void (RFC 1350 §7: an error ends the transfer).
    public mutating func sinkFailed(_ reason: SinkError) -> Action {
        if case .finished = state { return .wait }
        return finish(.localFailure(reason), send: .error(code: .notDefined, message: "Client cannot store the file"))
    }

    /// The user stopped the transfer (Ctrl-C).
    public mutating func cancel() -> Action {
        switch state {
        case .finished: return .wait
        case .idle: return finish(.cancelled, send: nil)
        default: return finish(.cancelled, send: .error(code: .notDefined, message: "Transfer cancelled by the user"))
        }
    }

    /// The answer to a datagram from anyone but the server's TID (RFC 1350 §4).
    public static func replyToStranger(_ decoded: Result<Packet, PacketDecodingError>) -> Packet? {
        ServerTransfer.replyToStranger(decoded)
    }

    /// Checks an OACK against what was asked; returns the problem, or nil and applies it.
    private mutating func accept(_ options: [TransferOption]) -> OptionProblem? {
        var blockSize = NegotiatedOptions.defaultBlockSize
        var windowSize = 1
        for option in options {
            let number = NegotiatedOptions.parseDecimal(option.value)
            switch option.key {
            case "blksize":
                guard let asked = configuration.blockSize else { return .notRequested(option.name) }
                guard let number, number >= NegotiatedOptions.minBlockSize, number <= asked else {
                    return .outOfRange(option: option.name, value: option.value, asked: asked)
                }
                blockSize = number
            case "windowsize":
                guard let asked = configuration.windowSize else { return .notRequested(option.name) }
                guard let number, number >= 1, number <= asked else {
                    return .outOfRange(option: option.name, value: option.value, asked: asked)
                }
                windowSize = number
            case "timeout":
                guard let asked = configuration.timeoutSeconds else { return .notRequested(option.name) }
                guard number == asked else {
                    return .outOfRange(option: option.name, value: option.value, asked: asked)
                }
            case "tsize":
                guard configuration.requestSize else { return .notRequested(option.name) }
                guard let size = NegotiatedOptions.parseSize(option.value) else { return .unreadableSize(option.value) }
                announcedSize = size
            default:
                return .notRequested(option.name)
            }
        }
        self.blockSize = blockSize
        self.windowSize = windowSize
        return nil
    }

    private mutating func send(_ packet: Packet, now: NIODeadline) -> Action {
        lastSent = packet
        let deadline = estimator.deadline(after: now)
        self.deadline = deadline
        return .send(packet, deadline: deadline)
    }

    private mutating func protocolError(_ reason: Violation) -> Action {
        finish(.protocolError(reason), send: .error(code: .illegalOperation, message: "Illegal TFTP operation"))
    }

    private mutating func finish(_ outcome: Outcome, send packet: Packet?) -> Action {
        state = .finished(outcome)
        deadline = nil
        return .finish(outcome, send: packet)
    }
}
