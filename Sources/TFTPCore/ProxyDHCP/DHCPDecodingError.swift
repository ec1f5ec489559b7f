/// Why a datagram is not a DHCP message this server will read. Each is a reason to stay
/// silent; none is answered (a DHCP server never answers what it cannot parse).
public enum DHCPDecodingError: Error, Equatable, Sendable {
    /// Shorter than the fixed BOOTP header and the magic cookie (240 bytes).
    case tooShort(Int)
    /// The four bytes after the header are not 99.130.83.99 (RFC 2131 §3): BOOTP without
    /// DHCP, or not DHCP at all.
    case noMagicCookie
    /// `op` is neither BOOTREQUEST (1) nor BOOTREPLY (2).
    case unknownOperation(UInt8)
    /// The hardware address length is over the 16 bytes `chaddr` holds.
    case hardwareAddressTooLong(UInt8)
    /// An option's length runs past the end of the datagram.
    case truncatedOption(code: UInt8)
}
