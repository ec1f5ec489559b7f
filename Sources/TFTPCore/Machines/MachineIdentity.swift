/// What is known of a machine that asks for something: from its DHCP request (hardware
/// address, machine UUID from option 97, architecture from option 93, host name from option
/// 12), from where its TFTP or HTTP request came from, and from what the server learned of
/// it before (``MachineRegistry``). Each may be missing; a profile selecting on a missing
/// one does not match.
public struct MachineIdentity: Hashable, Sendable {
    public var mac: MACAddress?
    /// The SMBIOS UUID, in lower case with dashes (`4c4c4544-0042-...`).
    public var uuid: String?
    public var architecture: ClientArchitecture?
    public var address: IPv4Address?
    public var hostname: String?

    public init(
        mac: MACAddress? = nil, uuid: String? = nil, architecture: ClientArchitecture? = nil,
        address: IPv4Address? = nil, hostname: String? = nil
    ) {
        self.mac = mac
        self.uuid = uuid
        self.architecture = architecture
        self.address = address
        self.hostname = hostname
    }

    /// A machine UUID as option 97 carries it (RFC 4578 §2.3: a type byte 0, then 16 bytes),
    /// in the SMBIOS byte order firmware prints (the first three fields little-endian).
    public static func uuid(fromOption bytes: [UInt8]) -> String? {
        guard bytes.count == 17, bytes[0] == 0 else { return nil }
        let raw = Array(bytes[1...])
        let ordered = [raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]] + raw[8...]
        let hex = ordered.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }
            .joined(separator: "-")
    }

    /// Fills in what this identity lacks from `other` (what was learned before).
    public func merged(with other: MachineIdentity) -> MachineIdentity {
        MachineIdentity(
            mac: mac ?? other.mac, uuid: uuid ?? other.uuid, architecture: architecture ?? other.architecture,
            address: address ?? other.address, hostname: hostname ?? other.hostname)
    }
}
