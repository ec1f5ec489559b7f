/// What the pure endpoints need to know of an address: equality of address and port (a
/// transfer ID, RFC 1350 §4) and the host part alone (a client latches the server's
/// transfer ID from the first answer that comes from the server's host).
///
/// The engine uses ``PeerAddress`` (the kernel's bytes), the client NIO's `SocketAddress`,
/// tests a plain struct.
public protocol TransferAddress: Hashable, Sendable {
    associatedtype Host: Hashable & Sendable
    /// The address without its port.
    var host: Host { get }
    /// Whether packets to it carry an IPv6 header (40 bytes, not IPv4's 20): what fits a
    /// link's MTU depends on it. An IPv4 client of a dual-stack socket is not.
    var isNativeIPv6: Bool { get }
}

extension TransferAddress {
    public var isNativeIPv6: Bool { false }
}
