/// DHCP message types (option 53, RFC 2132 §9.6). A proxy reads DISCOVER, REQUEST and
/// INFORM and writes OFFER and ACK; the rest are named so that a log line can say what it
/// ignored.
public enum DHCPMessageType: UInt8, Sendable, CaseIterable {
    case discover = 1
    case offer = 2
    case request = 3
    case decline = 4
    case ack = 5
    case nak = 6
    case release = 7
    case inform = 8
}
