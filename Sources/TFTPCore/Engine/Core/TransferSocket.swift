/// The socket a transfer sends from and receives on: its own (its port is the server's
/// transfer ID, RFC 1350 §4), or in single-port mode the listener's, shared by every
/// transfer of that listener and routed by the client's address and port.
enum TransferSocket: Equatable, Sendable {
    /// A UDP socket of the transfer's own, by descriptor.
    case own(Int32)
    /// The listening socket with this index (`--single-port`).
    case listener(Int)
}
