import NIOCore

extension SocketAddress: TransferAddress {
    /// The IP address as text, the port left out (nil for a UNIX socket address): the
    /// client latches the server's transfer ID from the first answer from this host.
    public var host: String? { ipAddress }
}
