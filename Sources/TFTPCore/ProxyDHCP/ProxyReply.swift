/// The proxy's answer to one request: the message, where it goes, and what it told whom
/// (for the log line and the metrics).
public struct ProxyReply: Hashable, Sendable {
    /// Where the reply goes.
    public enum Destination: Hashable, Sendable {
        /// 255.255.255.255:68, out of the interface the request came in on: the client has
        /// no address yet.
        case broadcast
        /// The relay agent that forwarded the request (`giaddr`), port 67 (RFC 2131 §4.1).
        case relay(IPv4Address)
        /// Back to the address and port the request came from (the boot service, port 4011).
        case sender
    }

    public var message: DHCPMessage
    public var destination: Destination
    public var client: BootClient
    /// The boot file or URL the client was given.
    public var told: String
}
