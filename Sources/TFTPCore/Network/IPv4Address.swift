/// An IPv4 address as DHCP carries it: four bytes in network order, shown dotted.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address in host byte order (`192.0.2.1` is `0xC000_0201`).
    public var value: UInt32

    public static let zero = IPv4Address(value: 0)
    /// The limited broadcast address, where replies go to a client without an address.
    public static let broadcast = IPv4Address(value: 0xFFFF_FFFF)

    public init(value: UInt32) { self.value = value }

    /// Four bytes in network order.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) {
        value = bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Dotted-quad text (`192.0.2.1`); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ (48...57).contains($0) }),
                let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public var description: String { bytes.map(String.init).joined(separator: ".") }
}
