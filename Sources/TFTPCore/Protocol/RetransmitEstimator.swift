import NIOCore

/// Not a timer: the estimate a transfer's timer is set from. Keeps the round-trip estimate
/// (RFC 6298), the interval in force with its exponential backoff, and the timeouts in a
/// row without progress; the driver owns the clock and the actual timer.
public struct RetransmitEstimator: Sendable, Equatable {
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
