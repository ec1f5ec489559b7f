/// An admitted request that the driver now opens: its content through the one door, and
/// its socket when ``socket`` is nil (a fresh port; otherwise a pooled socket the core hands
/// over, or the listener's in single-port mode). The driver then calls
/// ``EngineCore/begin(_:socket:content:configuration:now:into:)`` with what it got.
struct TransferOpening<Address: TransferAddress>: Equatable, Sendable {
    var client: Address
    var request: Request
    /// The listener that received the request.
    var listener: Int
    var socket: TransferSocket?
}
