/// What an ``EngineCore`` asks its driver to do. The driver performs each in order and
/// decides nothing: it moves bytes, opens what the core admitted, and writes log lines.
enum EngineEffect<Address: TransferAddress>: Equatable, Sendable {
    /// What happened to a datagram that asks nothing of the driver (a debug line).
    enum Note: Equatable, Sendable {
        /// Not a request on the listening port (DATA, ACK, OACK, ERROR, garbage).
        case notARequest
        /// The same request again from a client whose transfer runs: given to its machine.
        case repeatedRequest
        /// A request of a client whose transfer runs on another engine thread, which cannot
        /// be handed to it: it came handed over already, or that thread has no listener on
        /// the address it reached.
        case runningElsewhere
        /// Single-port mode: a request from a client address and port whose acknowledged
        /// transfer runs here; a second transfer could not be told apart from it.
        case acknowledgedTransferRuns
        /// A suspended transfer's client spoke, but the server had no place to resume it.
        case noPlaceToResume
    }

    /// Answer the request from the listener with the refusal's ERROR (count it, log it).
    case refuse(RequestRefusal, client: Address, listener: Int)
    /// Open the admitted request's content and socket, then call `begin`.
    indirect case open(TransferOpening<Address>)
    /// Hand the request (its client, the listener it came on) to engine thread `thread`,
    /// which runs the client's transfer: that core judges it
    /// (``EngineCore/handedOver(_:from:listener:now:into:)``).
    indirect case handOver(TransferOpening<Address>, thread: Int)
    /// Read what waits on the running transfer's socket (each datagram to
    /// `transferDatagram`), then tell the core (`drained`): it judges the request it kept.
    case drain(slot: Int)
    /// Send this control packet (OACK) to the transfer's client from its socket.
    case send(slot: Int, Packet)
    /// Send this packet (ERROR 5) to a stranger from the transfer's socket.
    case reply(slot: Int, Packet, to: Address)
    /// Send the window's DATA packets to the transfer's client.
    case sendWindow(slot: Int, ServerTransfer.DataWindow)
    /// The transfer fell silent: drop what it has pending and its read-ahead.
    case suspended(slot: Int)
    /// The transfer ended (``TransferEnding``).
    indirect case ended(TransferEnding<Address>)
    /// Close this idle pooled socket.
    case close(Int32)
    /// Nothing to do but a debug line.
    case note(Note, client: Address)
}
