import NIOHTTP1
import Testing

@testable import TFTPCore

/// TFTP and HTTP never disagree about what is servable: one row per ``ContentError``, with
/// the ERROR code a TFTP client gets and the status an HTTP client gets for the same name.
@Suite struct ContentErrorMappingTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var error: ContentError
        var tftp: TFTPErrorCode
        var http: HTTPResponseStatus
        var testDescription: String { "\(error)" }
    }

    static let table: [Row] = [
        Row(error: .notFound, tftp: .fileNotFound, http: .notFound),
        // Outside the root looks exactly like missing, on both.
        Row(error: .outsideRoot, tftp: .fileNotFound, http: .notFound),
        Row(error: .invalidName, tftp: .accessViolation, http: .badRequest),
        Row(error: .notReadable, tftp: .accessViolation, http: .forbidden),
        Row(error: .directory, tftp: .accessViolation, http: .forbidden),
        Row(error: .notRegularFile, tftp: .accessViolation, http: .forbidden),
        Row(error: .tooLarge, tftp: .diskFull, http: .payloadTooLarge),
        Row(error: .refusedByRule, tftp: .accessViolation, http: .forbidden),
        Row(error: .io(errno: 5), tftp: .notDefined, http: .internalServerError),
        Row(error: .scriptFailed("line 3: {{ x }} names no value"), tftp: .notDefined, http: .internalServerError),
        // Rewritten in place while read: TFTP ends the transfer, HTTP asks to try again.
        Row(error: .changed, tftp: .notDefined, http: .serviceUnavailable),
        // From the origin: unreachable with nothing cached, or not what its manifest says.
        Row(error: .originUnavailable("connection refused"), tftp: .notDefined, http: .badGateway),
        Row(error: .failedVerification("sha256 differs"), tftp: .notDefined, http: .badGateway),
    ]

    @Test(arguments: table)
    func bothProtocols(_ row: Row) {
        #expect(row.error.tftpError.code == row.tftp)
        #expect(row.error.httpError.status == row.http)
    }

    /// Refusing on one protocol means refusing on the other, and the same reason never
    /// leaks more over one than over the other: the messages name no path.
    @Test(arguments: table)
    func messagesNameNoPath(_ row: Row) {
        #expect(!row.error.tftpError.message.contains("/"))
        #expect(!row.error.httpError.text.contains("/"))
    }

    /// Every case is in the table: the switch stops compiling when a case is added, and the
    /// count then asks for its row.
    @Test func tableCoversEveryCase() {
        for row in Self.table {
            switch row.error {
            case .notFound, .outsideRoot, .invalidName, .notReadable, .directory, .notRegularFile, .tooLarge,
                .refusedByRule, .io, .scriptFailed, .changed, .originUnavailable, .failedVerification:
                break
            }
        }
        #expect(Set(Self.table.map { "\($0.error)".prefix(while: { $0 != "(" && $0 != ":" }) }).count == 13)
    }
}
