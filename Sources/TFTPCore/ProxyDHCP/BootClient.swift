/// What a DHCP request says about the machine that sent it, as far as booting goes: its
/// hardware address, its architecture and which kind of boot firmware is asking.
public struct BootClient: Hashable, Sendable {
    /// Which boot firmware sent the request.
    public enum Firmware: String, Sendable, CaseIterable {
        /// PXE firmware: vendor class `PXEClient...` (PXE 2.1); fetches over TFTP.
        case pxe
        /// UEFI HTTP boot: vendor class `HTTPClient...` (the UEFI specification's HTTP Boot chapter); fetches a URL.
        case http
        /// iPXE (user class `iPXE`, or its option 175): can fetch a script over HTTP, and
        /// must get one, or it would fetch iPXE again and loop.
        case iPXE = "ipxe"
    }

    public var hardwareAddress: [UInt8]
    public var architecture: ClientArchitecture
    public var firmware: Firmware

    /// The client a request describes, or why it is not a boot client this proxy serves.
    public init(_ request: DHCPMessage) throws(ProxyIgnoreReason) {
        guard let vendorClass = request.option(DHCPOption.vendorClass) else { throw .notBootClient }
        let vendor = String(decoding: vendorClass, as: UTF8.self)
        let isPXE = vendor.hasPrefix("PXEClient")
        guard isPXE || vendor.hasPrefix("HTTPClient") else { throw .notBootClient }
        let userClass = request.option(DHCPOption.userClass) ?? []
        // iPXE sends the bare text; RFC 3004's form puts a length byte before it.
        let saysIPXE = userClass.elementsEqual("iPXE".utf8) || userClass.elementsEqual([4] + Array("iPXE".utf8))
        if isPXE && (saysIPXE || request.option(DHCPOption.iPXEEncapsulated) != nil) {
            firmware = .iPXE
        } else {
            firmware = isPXE ? .pxe : .http
        }
        hardwareAddress = request.clientHardwareAddress
        if let value = request.option(DHCPOption.clientArchitecture), value.count >= 2 {
            // RFC 4578 allows a list; the first is the one the client runs.
            guard let architecture = ClientArchitecture(optionValue: UInt16(value[0]) << 8 | UInt16(value[1])) else {
                throw .unknownArchitecture
            }
            self.architecture = architecture
        } else if let value = Self.architectureField(of: vendor) {
            guard let architecture = ClientArchitecture(optionValue: value) else { throw .unknownArchitecture }
            self.architecture = architecture
        } else if isPXE {
            // PXE 2.1 clients that name no architecture are x86 BIOS ones.
            architecture = .bios
        } else {
            throw .unknownArchitecture
        }
    }

    /// The `Arch:xxxxx` field of a `PXEClient:Arch:00007:UNDI:003016` vendor class.
    static func architectureField(of vendor: String) -> UInt16? {
        let fields = vendor.split(separator: ":")
        guard let index = fields.firstIndex(of: "Arch"), index + 1 < fields.count else { return nil }
        return UInt16(fields[index + 1])
    }

    /// `52:54:00:12:34:56`, as the log lines show it.
    public var hardwareAddressText: String {
        hardwareAddress.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined(separator: ":")
    }
}
