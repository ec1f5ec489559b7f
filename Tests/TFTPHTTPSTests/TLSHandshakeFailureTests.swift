import NIOSSL
import Testing

@testable import TFTPHTTPS

/// The TLS library's words for a failed handshake, read as what the operator should do.
@Suite struct TLSHandshakeFailureTests {
    @Test(arguments: [
        (
            "error:10000415:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED",
            TLSHandshakeFailure.certificateExpired
        ),
        ("error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA", .unknownCA),
        ("error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE", .certificateRejected),
        ("error:10000416:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN", .certificateRejected),
        ("error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER", .noSharedCipher),
        ("error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL", .protocolVersion),
        ("error:1000009c:SSL routines:OPENSSL_internal:HTTP_REQUEST", .plainHTTP),
        ("error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER", .plainHTTP),
        (
            "sslError([Error: 268435568 error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH, Error: 268435595 error:1000008b:SSL routines:OPENSSL_internal:DECRYPTION_FAILED_OR_BAD_RECORD_MAC])",
            .clientAborted
        ),
        ("sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED])", .other),
    ])
    func classified(_ text: String, _ failure: TLSHandshakeFailure) {
        #expect(TLSHandshakeFailure(errorText: text) == failure)
    }

    /// The TLS library's own words when the connection ends mid-handshake (what EDK2's HTTP
    /// boot does when it refuses the certificate).
    @Test func endOfFileDuringTheHandshake() {
        let cause = BoringSSLError.sslError([.eofDuringHandshake])
        #expect(TLSHandshakeFailure(errorText: "\(cause)") == .clientClosed)
    }

    @Test func everyReasonHasAHint() {
        for failure in TLSHandshakeFailure.allCases {
            #expect(!failure.hint.isEmpty)
        }
        #expect(Set(TLSHandshakeFailure.allCases.map(\.rawValue)).count == TLSHandshakeFailure.allCases.count)
    }
}
