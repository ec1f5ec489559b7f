/// A DHCP message (RFC 2131 §2): the fixed BOOTP fields and the options in the order they
/// came. Values, no I/O; ``DHCPMessage/decode(_:)`` and ``DHCPMessage/encode()`` are the
/// codec.
public struct DHCPMessage: Hashable, Sendable {
    /// BOOTREQUEST (client to server) or BOOTREPLY.
    public enum Operation: UInt8, Sendable {
        case request = 1
        case reply = 2
    }

    public var operation: Operation
    public var hardwareType: UInt8 = 1
    /// The client's hardware address: `hardwareLength` bytes (6 for Ethernet).
    public var clientHardwareAddress: [UInt8]
    public var hops: UInt8 = 0
    public var transactionID: UInt32
    public var seconds: UInt16 = 0
    /// The top bit asks for broadcast replies (RFC 2131 §4.1).
    public var flags: UInt16 = 0
    public var clientAddress: IPv4Address = .zero
    public var yourAddress: IPv4Address = .zero
    /// `siaddr`: the next server, where the boot file is fetched (RFC 2131 §2).
    public var serverAddress: IPv4Address = .zero
    /// `giaddr`: the relay agent that forwarded the message, or zero.
    public var relayAddress: IPv4Address = .zero
    /// `sname`, up to 63 bytes of text.
    public var serverName: String = ""
    /// `file`, up to 127 bytes of text.
    public var bootFile: String = ""
    public var options: [DHCPOption] = []

    public init(operation: Operation, transactionID: UInt32, clientHardwareAddress: [UInt8]) {
        self.operation = operation
        self.transactionID = transactionID
        self.clientHardwareAddress = clientHardwareAddress
    }

    /// The bytes of every instance of option `code`, concatenated: a long option may be
    /// split across several (RFC 3396). Nil when absent.
    public func option(_ code: UInt8) -> [UInt8]? {
        var found: [UInt8]?
        for option in options where option.code == code {
            found = (found ?? []) + option.value
        }
        return found
    }

    /// Option 53, when present and known.
    public var messageType: DHCPMessageType? {
        option(DHCPOption.messageType).flatMap { $0.count == 1 ? DHCPMessageType(rawValue: $0[0]) : nil }
    }

    /// Whether the client asked for replies by broadcast.
    public var wantsBroadcast: Bool { flags & 0x8000 != 0 }
}
