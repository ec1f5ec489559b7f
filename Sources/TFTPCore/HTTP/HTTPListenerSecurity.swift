import NIOCore

/// What an HTTPS listener puts in front of each connection's ``HTTPConnectionHandler``: the
/// TLS handlers, given by the daemon (they live in the `TFTPHTTPS` target, so the library
/// and the client link no TLS). On a secured connection bodies are copied through the
/// pipeline instead of sent with sendfile, which cannot go through TLS.
public struct HTTPListenerSecurity: Sendable {
    /// Adds the TLS handlers to a new connection's pipeline; called on its event loop.
    public var secure: @Sendable (any Channel) throws -> Void

    public init(secure: @escaping @Sendable (any Channel) throws -> Void) {
        self.secure = secure
    }
}
