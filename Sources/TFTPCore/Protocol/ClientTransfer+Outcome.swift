extension ClientTransfer.Outcome: CustomStringConvertible {
    /// Plain words for logs and summaries, e.g.
    /// `server refused: file not found (TFTP error 1: "File not found")`.
    public var description: String {
        switch self {
        case .completed(let bytes): "completed (\(bytes) bytes)"
        case .serverError(let code, let message):
            "server refused: \(code) (TFTP error \(code.rawValue)\(message.isEmpty ? "" : ": \"\(message)\""))"
        case .optionsRejected(let problem): "unacceptable OACK: \(problem)"
        case .protocolError(let reason): "protocol error: \(reason)"
        case .timedOut: "timed out"
        case .localFailure(let reason): "local failure: \(reason)"
        case .cancelled: "cancelled"
        case .probed(let size): "size probe answered (\(size.map { "tsize \($0)" } ?? "no tsize"))"
        }
    }
}
