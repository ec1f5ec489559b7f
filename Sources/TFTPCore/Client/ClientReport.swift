import NIOCore

/// What a finished client transfer reports: the outcome and what was negotiated.
public struct ClientReport: Sendable, Equatable {
    public var outcome: ClientTransfer.Outcome
    /// Bytes received on the wire (before netascii decoding).
    public var bytes: Int64
    public var blockSize: Int
    public var windowSize: Int
    /// False when the server ignored the options (answered the RRQ with DATA).
    public var optionsAcknowledged: Bool
    /// The server's tsize, when asked for and given.
    public var announcedSize: Int64?
    public var retransmits: Int
    public var duration: TimeAmount
    /// The server's transfer ID, once it answered.
    public var server: SocketAddress?
    /// The options the request asked for, in the order sent.
    public var requested: [TransferOption]

    public init(
        outcome: ClientTransfer.Outcome,
        bytes: Int64,
        blockSize: Int,
        windowSize: Int,
        optionsAcknowledged: Bool,
        announcedSize: Int64?,
        retransmits: Int,
        duration: TimeAmount,
        server: SocketAddress?,
        requested: [TransferOption] = []
    ) {
        self.outcome = outcome
        self.bytes = bytes
        self.blockSize = blockSize
        self.windowSize = windowSize
        self.optionsAcknowledged = optionsAcknowledged
        self.announcedSize = announcedSize
        self.retransmits = retransmits
        self.duration = duration
        self.server = server
        self.requested = requested
    }
}
