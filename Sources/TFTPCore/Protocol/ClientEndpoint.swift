import NIOCore

/// One client transfer as its socket sees it: the ``ClientTransfer`` machine plus RFC 1350
/// §4's transfer identifiers, pure.
///
/// The request goes to the server's listening port. The first well-formed answer from the
/// server's host fixes the server's transfer ID (its address and port); from then on
/// only that source reaches the machine. Any other source gets ERROR 5 and changes
/// nothing; a stranger's ERROR and garbage get no answer. A datagram from the server
/// that does not decode is dropped: the timer recovers.
public struct ClientEndpoint<Address: TransferAddress>: Sendable {
    /// What the driver does with one datagram.
    public enum Output: Equatable, Sendable {
        /// Perform the machine's action; its packets go to ``destination``.
        case perform(ClientTransfer.Action)
        /// Send this packet to `address` (a stranger) and change nothing else.
        case reply(Packet, to: Address)
        /// Nothing to do.
        case ignore
    }

    /// Where the request was sent: the server's listening address and port.
    public let server: Address
    /// The server's transfer ID, once its first answer arrived.
    public private(set) var transferID: Address?
    /// The transfer's machine; the driver calls it directly for the start, timers, cancel.
    public var transfer: ClientTransfer

    public init(server: Address, transfer: ClientTransfer) {
        self.server = server
        self.transfer = transfer
    }

    /// Where the machine's packets go: the server's transfer ID, or its listening port
    /// until the first answer.
    public var destination: Address { transferID ?? server }

    /// A datagram from `source`, already decoded by the one codec.
    public mutating func received(
        _ decoded: Result<Packet, PacketDecodingError>, from source: Address, now: NIODeadline
    ) -> Output {
        if transferID == nil, source.host == server.host, case .success = decoded {
            transferID = source
        }
        guard source == transferID else {
            return ClientTransfer.replyToStranger(decoded).map { .reply($0, to: source) } ?? .ignore
        }
        guard case .success(let packet) = decoded else { return .ignore }
        return .perform(transfer.received(packet, now: now))
    }
}
