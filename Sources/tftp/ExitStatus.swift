import ArgumentParser
import TFTPCore

/// The exit codes of `tftp get`, one per kind of failure, so scripts can tell a missing
/// file from a dead server. Listed in `--help` and in the README.
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    /// The server refused for another reason (busy, an unknown error code).
    case serverError = 1
    /// TFTP error 1.
    case notFound = 2
    /// TFTP error 2.
    case accessDenied = 3
    /// No answer, or the server stopped answering.
    case timedOut = 4
    /// The server broke the protocol or answered with options we did not accept.
    case protocolError = 5
    /// The output could not be created or written.
    case localIOError = 6
    /// Interrupted by the user (Ctrl-C); the server was told.
    case cancelled = 130

    init(_ outcome: ClientTransfer.Outcome) {
        switch outcome {
        case .completed, .probed: self = .success
        case .serverError(let code, _) where code == .fileNotFound: self = .notFound
        case .serverError(let code, _) where code == .accessViolation: self = .accessDenied
        case .serverError(let code, _)
        where code == .illegalOperation || code == .unknownTransferID || code == .optionRefused:
            self = .protocolError
        case .serverError: self = .serverError
        case .optionsRejected, .protocolError: self = .protocolError
        case .timedOut: self = .timedOut
        case .localFailure: self = .localIOError
        case .cancelled: self = .cancelled
        }
    }

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The table shown in `--help` (and copied in the README).
    static let help = """
        Exit status:
          0    the file arrived and was saved
          1    the server refused for another reason (e.g. busy, TFTP error 0)
          2    file not found (TFTP error 1)
          3    access denied (TFTP error 2)
          4    timed out: no answer, or the server stopped answering
          5    protocol error: an OACK we did not accept, TFTP error 4, 5 or 8
          6    local I/O error: the output could not be created or written
          64   usage error
          130  interrupted (Ctrl-C); the server was told
        """
}
