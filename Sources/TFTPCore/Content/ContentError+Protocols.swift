import NIOHTTP1

/// The two mappings of ``ContentError``, kept side by side so that a reader (and
/// `ContentErrorMappingTests`) sees at once that TFTP and HTTP agree: what one refuses the
/// other refuses, and a name leading out of the root looks like a missing file to both, so
/// a prober learns nothing about what exists outside.
extension ContentError {
    /// The ERROR packet a TFTP client receives (RFC 1350 §5).
    public var tftpError: (code: TFTPErrorCode, message: String) {
        switch self {
        case .notFound, .outsideRoot: (.fileNotFound, "File not found")
        case .invalidName: (.accessViolation, "Access violation: invalid file name")
        case .notReadable, .refusedByRule: (.accessViolation, "Access violation")
        case .directory, .notRegularFile: (.accessViolation, "Access violation: not a regular file")
        case .tooLarge: (.diskFull, "File too large for netascii mode")
        case .io: (.notDefined, "Read error")
        case .changed: (.notDefined, "File changed during transfer, try again")
        case .originUnavailable: (.notDefined, "Origin unavailable")
        case .failedVerification: (.notDefined, "File failed verification")
        case .scriptFailed: (.notDefined, "Script error")
        }
    }

    /// The answer an HTTP client receives (RFC 9110 §15). A directory only reaches this when
    /// it is not listed: without `--http-listing`, or an unlisted one (the planner redirects
    /// `/dir` to `/dir/` first).
    public var httpError: HTTPErrorResponse {
        switch self {
        case .notFound, .outsideRoot: HTTPErrorResponse(.notFound)
        case .invalidName: HTTPErrorResponse(.badRequest, note: "invalid file name")
        case .notReadable, .notRegularFile, .refusedByRule: HTTPErrorResponse(.forbidden)
        case .directory: HTTPErrorResponse(.forbidden, note: "directory listing is off")
        case .tooLarge: HTTPErrorResponse(.payloadTooLarge)
        case .io: HTTPErrorResponse(.internalServerError)
        case .originUnavailable: HTTPErrorResponse(.badGateway, note: "the origin is unavailable")
        case .failedVerification: HTTPErrorResponse(.badGateway, note: "the file failed verification")
        case .changed:
            HTTPErrorResponse(
                .serviceUnavailable, note: "the file changed while it was read; try again",
                extraHeaders: [("Retry-After", "1")])
        case .scriptFailed: HTTPErrorResponse(.internalServerError, note: "script error")
        }
    }
}
