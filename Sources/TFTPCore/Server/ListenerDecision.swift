/// What the listening socket does with one datagram: pure, so every rule is a unit test.
///
/// FIELD-NOTES rules 1, 6 and 8: an RRQ starts a transfer; a WRQ gets ERROR 2 (read-only,
/// nothing is ever written); a request that is malformed gets ERROR 4 so its sender
/// learns why; everything else (DATA, ACK, OACK, ERROR, garbage) gets silence: an ERROR
/// is never answered (the packet loop of CVE-2024-2169) and garbage is not reflected.
public enum ListenerDecision: Equatable, Sendable {
    case startTransfer(Request)
    case reply(Packet)
    case ignore

    public static func decide(_ decoded: Result<Packet, PacketDecodingError>) -> ListenerDecision {
        switch decoded {
        case .success(.readRequest(let request)):
            return .startTransfer(request)
        case .success(.writeRequest):
            return .reply(.error(code: .accessViolation, message: "Read-only server: write requests refused"))
        case .success:
            return .ignore
        case .failure(.unknownMode):
            return .reply(.error(code: .illegalOperation, message: "Unknown transfer mode"))
        case .failure(.unterminatedFilename), .failure(.unterminatedMode), .failure(.emptyFilename):
            return .reply(.error(code: .illegalOperation, message: "Malformed request"))
        case .failure(.tooShort), .failure(.unknownOpcode), .failure(.truncatedHeader):
            return .ignore
        }
    }
}
