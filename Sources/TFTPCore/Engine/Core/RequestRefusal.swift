/// Why a request was answered with an ERROR instead of becoming a transfer: the listener's
/// rules (``ListenerDecision``), admission (``TransferTable``) or the lack of a transfer
/// port. One ERROR packet per case and one label, used for the log line and for
/// `tftp_requests_rejected_total{reason}`.
public enum RequestRefusal: Equatable, Sendable {
    /// A WRQ: this server is read-only and never writes (ERROR 2).
    case writeRequest
    /// A request that does not decode: no NUL after the name or the mode, an empty name,
    /// an unknown mode (ERROR 4).
    case malformed(PacketDecodingError)
    /// The server runs its maximum number of transfers.
    case busy
    /// The client's address runs its maximum number of transfers (any ports): one address,
    /// flooding or spoofed, cannot take the whole server.
    case perClientLimit
    /// Graceful shutdown has begun.
    case shuttingDown
    /// No socket could be bound for the transfer (`--port-range` exhausted, descriptors used up).
    case noTransferPort

    /// The label in logs and metrics.
    public var reason: RefusalReason {
        switch self {
        case .writeRequest: .writeRequest
        case .malformed: .malformed
        case .busy: .busy
        case .perClientLimit: .perClientLimit
        case .shuttingDown: .shuttingDown
        case .noTransferPort: .noPort
        }
    }

    /// The ERROR sent to the client (RFC 1350 §5). Short and without server detail.
    public var reply: Packet {
        switch self {
        case .writeRequest:
            .error(code: .accessViolation, message: "Read-only server: write requests refused")
        case .malformed(.unknownMode):
            .error(code: .illegalOperation, message: "Unknown transfer mode")
        case .malformed:
            .error(code: .illegalOperation, message: "Malformed request")
        case .busy:
            .error(code: .notDefined, message: "Server busy, try again later")
        case .perClientLimit:
            .error(code: .notDefined, message: "Too many transfers from your address")
        case .shuttingDown:
            .error(code: .notDefined, message: "Server shutting down")
        case .noTransferPort:
            .error(code: .notDefined, message: "No transfer port free, try again later")
        }
    }
}
