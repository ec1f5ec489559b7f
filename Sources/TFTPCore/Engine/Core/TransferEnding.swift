import NIOCore

/// A transfer the core has ended: its place in the admission table and its route are gone
/// already; the driver writes its line and metrics, sends ``finalPacket`` (an ERROR) if
/// there is one, lets go of its read-ahead, and closes its socket unless ``pooled``.
struct TransferEnding<Address: TransferAddress>: Equatable, Sendable {
    var slot: Int
    var client: Address
    var request: Request
    var outcome: ServerTransfer.Outcome
    var options: NegotiatedOptions
    var statistics: ServerTransfer.Statistics
    var started: NIODeadline
    var socket: TransferSocket
    var finalPacket: Packet?
    /// The socket went to the pool of idle sockets (``SocketPool``) to serve a later
    /// transfer after its quarantine; otherwise an own socket is closed.
    var pooled: Bool
    /// The error that failed the socket under the transfer, if one did.
    var socketErrno: Int32?
}
