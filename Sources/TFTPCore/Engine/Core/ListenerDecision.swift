/// What the listening socket does with one datagram: pure, so every rule is a unit test.
///
/// An RRQ starts a transfer; a WRQ gets ERROR 2 (read-only, nothing is ever written); a
/// request that is malformed gets ERROR 4 so its sender learns why; everything else
/// (DATA, ACK, OACK, ERROR, garbage) gets silence: an ERROR is never answered (the packet
/// loop of CVE-2024-2169) and garbage is not reflected. See docs/protocol.md.
public enum ListenerDecision: Equatable, Sendable {
    case startTransfer(Request)
    case refuse(RequestRefusal)
    case ignore

    public static func decide(_ decoded: Result<Packet, PacketDecodingError>) -> ListenerDecision {
        switch decoded {
        case .success(.readRequest(let request)):
            return .startTransfer(request)
        case .success(.writeRequest):
            return .refuse(.writeRequest)
        case .success:
            return .ignore
        case .failure(let error):
            switch error {
            case .unknownMode, .unterminatedFilename, .unterminatedMode, .emptyFilename:
                return .refuse(.malformed(error))
            case .tooShort, .unknownOpcode, .truncatedHeader:
                return .ignore
            }
        }
    }
}
