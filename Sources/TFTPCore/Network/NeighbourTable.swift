import Glibc

/// The kernel's IPv4 neighbour table (`/proc/net/arp`, or a file in its format for tests):
/// which hardware address a directly attached client has. Read when asked, never cached
/// (the kernel's entries come and go). Used for per-client directories named by MAC and to
/// tie a TFTP or HTTP client to the machine the proxy saw.
public struct NeighbourTable: Sendable, Equatable {
    public var path: String

    public init(path: String = "/proc/net/arp") {
        self.path = path
    }

    /// The hardware address of `address` when the kernel has a complete entry for it.
    public func mac(of address: String) -> MACAddress? {
        guard !address.isEmpty, let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            // IP address, HW type, Flags, HW address, Mask, Device; flags 0x2: complete.
            guard fields.count >= 4, fields[0] == address, let flags = Int(fields[2].dropFirst(2), radix: 16),
                flags & 0x2 != 0
            else { continue }
            return MACAddress(String(fields[3]))
        }
        return nil
    }
}
