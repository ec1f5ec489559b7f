import NIOCore

/// One server transfer as its socket sees it: the ``ServerTransfer`` machine plus RFC 1350
/// §4's transfer identifiers. Pure: every datagram that reaches the transfer's port comes in
/// with its source, and what to do comes out; the driver only moves bytes.
///
/// - From the client's address and port: decoded and given to the machine; a datagram that
///   does not decode is handed to the machine as malformed (it ignores it: the timer covers
///   whatever it meant to say).
/// - From anyone else: ERROR 5 "Unknown transfer ID" back to that source, and nothing
///   changes in the transfer (docs/protocol.md, "Who gets an answer"). A stranger's ERROR,
///   and a datagram that does not decode, get no answer: no error answers an error, and
///   garbage is not reflected.
public struct ServerEndpoint<Address: TransferAddress>: Sendable {
    /// What the driver does with one datagram.
    public enum Output: Equatable, Sendable {
        /// Perform the machine's action (it came from the client).
        case perform(ServerTransfer.Action)
        /// Send this packet to `address` (a stranger) and change nothing else.
        case reply(Packet, to: Address)
        /// Nothing to do.
        case ignore
    }

    /// The client's address and port: the only source the transfer listens to.
    public let client: Address
    /// The transfer's machine; the driver calls it directly for starts, timers and shutdown.
    public var transfer: ServerTransfer

    public init(client: Address, transfer: ServerTransfer) {
        self.client = client
        self.transfer = transfer
    }

    /// A datagram from `source`, already decoded by the one codec.
    public mutating func received(
        _ decoded: Result<Packet, PacketDecodingError>, from source: Address, now: NIODeadline
    ) -> Output {
        guard source == client else {
            return ServerTransfer.replyToStranger(decoded).map { .reply($0, to: source) } ?? .ignore
        }
        switch decoded {
        case .success(let packet):
            return .perform(transfer.received(packet, now: now))
        case .failure:
            return .perform(transfer.receivedMalformed(now: now))
        }
    }
}
