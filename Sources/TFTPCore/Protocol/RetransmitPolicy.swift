import NIOCore

/// When to retransmit and when to give up (docs/protocol.md, "Retransmission").
///
/// Without a `timeout` option the interval adapts to the measured round-trip time
/// (RFC 6298's estimator with Karn's rule: only packets sent once are sampled), starting
/// at ``initialTimeout`` and never going below ``minimumTimeout``. The floor of 50 ms
/// sits well above a LAN round trip and the 10 ms polling ticks of firmware network
/// stacks, so a slow but healthy client rarely sees a spurious resend, while a lost
/// packet costs 20× less than tftp-hpa's and atftpd's fixed one second (what makes them
/// crawl on lossy links). Each timeout without progress doubles the interval up to
/// ``maximumTimeout``; after ``maxRetries`` of them the transfer gives up.
///
/// With a `timeout` option (RFC 2349) the client's value is used as it is, every try.
///
/// Before the client has acknowledged anything, only ``unprovenRetransmits`` of the
/// ``maxRetries`` apply: the request may be spoofed (see ``ServerTransfer``).
public struct RetransmitPolicy: Sendable, Equatable {
    public var initialTimeout: TimeAmount
    public var minimumTimeout: TimeAmount
    public var maximumTimeout: TimeAmount
    public var maxRetries: Int
    /// Timer retransmissions of the first packet before the client has proved its address.
    public var unprovenRetransmits: Int

    public init(
        initialTimeout: TimeAmount = .seconds(1),
        minimumTimeout: TimeAmount = .milliseconds(50),
        maximumTimeout: TimeAmount = .seconds(4),
        maxRetries: Int = 8,
        unprovenRetransmits: Int = 1
    ) {
        self.minimumTimeout = max(minimumTimeout, .milliseconds(1))
        self.maximumTimeout = max(maximumTimeout, self.minimumTimeout)
        self.initialTimeout = min(max(initialTimeout, self.minimumTimeout), self.maximumTimeout)
        self.maxRetries = max(maxRetries, 0)
        self.unprovenRetransmits = max(min(unprovenRetransmits, self.maxRetries), 0)
    }
}

/// The per-transfer retransmission clock state: RTT estimate, current interval, tries.
public struct RetransmitTimer: Sendable, Equatable {
    public let policy: RetransmitPolicy
    /// The client's RFC 2349 timeout, which overrides adaptation.
    public let fixed: TimeAmount?
    private var smoothedRTT: Int64?
    private var rttVariance: Int64 = 0
    private var base: TimeAmount
    /// The interval in force for the next send (base with backoff applied).
    public private(set) var current: TimeAmount
    /// Timeouts in a row without progress.
    public private(set) var retries = 0

    public init(policy: RetransmitPolicy, clientTimeoutSeconds: Int?) {
        self.policy = policy
        self.fixed = clientTimeoutSeconds.map { .seconds(Int64($0)) }
        self.base = fixed ?? policy.initialTimeout
        self.current = base
    }

    /// Feeds one round-trip sample (RFC 6298 §2) and resets the backoff: progress was made.
    /// The estimate is kept even when the client fixed the timeout; it then does not set it.
    public mutating func progress(rttSample: TimeAmount?) {
        retries = 0
        if let sample = rttSample?.nanoseconds {
            if let srtt = smoothedRTT {
                rttVariance = (3 * rttVariance + abs(srtt - sample)) / 4
                smoothedRTT = (7 * srtt + sample) / 8
            } else {
                smoothedRTT = sample
                rttVariance = sample / 2
            }
            if fixed == nil {
                let rto = TimeAmount.nanoseconds((smoothedRTT ?? 0) + 4 * rttVariance)
                base = min(max(rto, policy.minimumTimeout), policy.maximumTimeout)
            }
        }
        current = base
    }

    /// The smoothed round-trip time (RFC 6298's SRTT), once a sample was taken.
    public var smoothedRoundTrip: TimeAmount? { smoothedRTT.map { .nanoseconds($0) } }

    /// A timeout: returns false when the tries are used up; otherwise doubles the interval
    /// (capped; a client's fixed timeout is not doubled) and counts the try.
    public mutating func timedOut() -> Bool {
        guard retries < policy.maxRetries else { return false }
        retries += 1
        if fixed == nil {
            current = min(current * 2, policy.maximumTimeout)
        }
        return true
    }

    /// The deadline for a packet sent at `now`.
    public func deadline(after now: NIODeadline) -> NIODeadline {
        now + current
    }
}
