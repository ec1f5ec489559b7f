/// One DHCP option as it travels: a code and its bytes (RFC 2132 §2). The codes this
/// project reads or writes are named here.
public struct DHCPOption: Hashable, Sendable {
    public var code: UInt8
    public var value: [UInt8]

    public init(_ code: UInt8, _ value: [UInt8]) {
        self.code = code
        self.value = value
    }

    public init(_ code: UInt8, text: String) {
        self.init(code, Array(text.utf8))
    }

    /// Padding between options (RFC 2132 §3.1); no length byte.
    public static let pad: UInt8 = 0
    /// Vendor-specific information (§8.4); PXE puts its sub-options here (PXE 2.1).
    public static let vendorSpecific: UInt8 = 43
    /// Host name (RFC 2132 §3.14).
    public static let hostName: UInt8 = 12
    /// The requested address (§9.1).
    public static let requestedAddress: UInt8 = 50
    /// The message type (§9.6).
    public static let messageType: UInt8 = 53
    /// The server identifier (§9.7): which server a REQUEST is meant for.
    public static let serverIdentifier: UInt8 = 54
    /// The vendor class identifier (§9.13): `PXEClient:Arch:xxxxx:UNDI:yyyzzz` from PXE
    /// firmware, `HTTPClient:...` from UEFI HTTP boot; servers echo `PXEClient` or `HTTPClient`.
    public static let vendorClass: UInt8 = 60
    /// The TFTP server name (§9.4).
    public static let tftpServerName: UInt8 = 66
    /// The boot file name (§9.5).
    public static let bootFileName: UInt8 = 67
    /// The user class (RFC 3004); iPXE sends the bare text `iPXE`.
    public static let userClass: UInt8 = 77
    /// The client system architecture (RFC 4578 §2.1), two bytes.
    public static let clientArchitecture: UInt8 = 93
    /// The client network interface identifier (RFC 4578 §2.2).
    public static let clientInterface: UInt8 = 94
    /// The client machine identifier (RFC 4578 §2.3), a UUID echoed by PXE servers.
    public static let clientMachineIdentifier: UInt8 = 97
    /// iPXE's own encapsulated options (sent only by iPXE).
    public static let iPXEEncapsulated: UInt8 = 175
    /// The end of the options (RFC 2132 §3.2).
    public static let end: UInt8 = 255
}
