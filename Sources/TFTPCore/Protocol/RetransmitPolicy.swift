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
