/// Why the proxy stays silent on a datagram: a closed set, so that the metrics label and
/// the debug log line read the same raw values. Silence is the only answer: a proxy never
/// sends a DHCPNAK or anything else that could disturb the network's own DHCP exchange.
public enum ProxyIgnoreReason: String, Error, Sendable, CaseIterable {
    /// Not a DHCP message (too short, no magic cookie, a truncated option).
    case malformed
    /// A BOOTREPLY (another server's answer), not a client's request.
    case notARequest = "not-a-request"
    /// No vendor class `PXEClient` or `HTTPClient`: an ordinary DHCP client (a laptop, a
    /// phone, an operating system renewing its lease). Never answered.
    case notBootClient = "not-boot-client"
    /// A message type the proxy has no part in here (DECLINE, RELEASE, INFORM on port 67...).
    case messageType = "message-type"
    /// A REQUEST for a lease: any REQUEST on port 67 (the client's exchange with the network's
    /// DHCP server, whichever server identifier it names, the proxy's own address included
    /// when both share a host), or one with a requested address (option 50) on port 4011.
    /// Answering one with an address-less ACK makes EDK2 decline its lease.
    case leaseRequest = "lease-request"
    /// An option-93 value this server has no name for.
    case unknownArchitecture = "unknown-architecture"
    /// No `--boot-file` for the client's architecture.
    case noBootFile = "no-boot-file"
    /// An HTTP boot client, or an iPXE script under the root, but no `--http` listener on
    /// the interface's address.
    case noHTTPListener = "no-http-listener"
}
