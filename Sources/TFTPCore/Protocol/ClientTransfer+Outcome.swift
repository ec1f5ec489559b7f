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

extension ClientTransfer {
    /// Why a server's OACK cannot be taken (RFC 2347 §2: the client ends the transfer with
    /// ERROR 8); EDK2 and PXELINUX refuse the same OACKs.
    public enum OptionProblem: Equatable, Sendable, CustomStringConvertible {
        /// An option the client did not ask for.
        case notRequested(String)
        /// A value other than the client allows: more than it asked (blksize, windowsize), or
        /// any change of its timeout (echoed exactly, RFC 2349).
        case outOfRange(option: String, value: String, asked: Int)
        /// A tsize that is not a decimal size.
        case unreadableSize(String)

        public var description: String {
            switch self {
            case .notRequested(let name): "\(name) was not requested"
            case .outOfRange(let option, let value, let asked): "\(option) \(value) (asked \(asked))"
            case .unreadableSize(let value): "tsize \(value)"
            }
        }
    }

    /// What the server did that a client cannot go on from.
    public enum Violation: Equatable, Sendable, CustomStringConvertible {
        case unexpectedAnswer(Opcode)
        case unexpectedDuringTransfer(Opcode)
        /// A DATA block larger than the negotiated block size.
        case oversizedBlock(block: UInt16, bytes: Int, blockSize: Int)
        /// An octet transfer that ended at another size than the server's tsize.
        case sizeMismatch(received: Int64, announced: Int64)

        public var description: String {
            switch self {
            case .unexpectedAnswer(let opcode): "unexpected \(opcode) in answer to the request"
            case .unexpectedDuringTransfer(let opcode): "unexpected \(opcode) during the transfer"
            case .oversizedBlock(let block, let bytes, let blockSize):
                "DATA \(block) carries \(bytes) bytes, more than blksize \(blockSize)"
            case .sizeMismatch(let received, let announced):
                "received \(received) bytes, the server announced \(announced)"
            }
        }
    }
}
