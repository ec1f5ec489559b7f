/// Why a TLS handshake failed, in terms an operator can act on: the alerts a boot client
/// sends when it refuses our certificate, and the mismatches of versions and ciphers that
/// firmware runs into (docs/https-boot.md, "When a client refuses"). Read from the TLS
/// library's error text; one label per case for the log line and
/// `http_tls_handshake_failures_total{reason}`.
public enum TLSHandshakeFailure: String, CaseIterable, Equatable, Sendable {
    /// The client says our certificate has expired (or its clock is wrong).
    case certificateExpired = "certificate-expired"
    /// The client does not trust the CA that signed our certificate.
    case unknownCA = "unknown-ca"
    /// The client refused our certificate for another reason (a name that does not match
    /// the URL's host, a bad signature, a usage it does not accept).
    case certificateRejected = "certificate-rejected"
    /// No cipher suite in common (firmware without elliptic curves and a server without
    /// RSA key exchange, for one).
    case noSharedCipher = "no-shared-cipher"
    /// No TLS version in common.
    case protocolVersion = "protocol-version"
    /// Plain HTTP sent to the HTTPS port.
    case plainHTTP = "plain-http"
    /// The client ended a TLS 1.3 handshake after our certificate with an alert the server
    /// cannot read (an OpenSSL client's refusal arrives so): most often it refused the
    /// certificate, but it does not say why.
    case clientAborted = "client-aborted"
    /// The client closed or reset the connection during the handshake without an alert.
    /// EDK2's HTTP boot refuses a certificate so: it answers our certificate with a TCP reset
    /// (docs/https-boot.md).
    case clientClosed = "client-closed"
    /// Anything else the TLS library refused (garbage).
    case other

    /// Classifies the TLS library's description of a failed handshake.
    public init(errorText text: String) {
        let upper = text.uppercased()
        if upper.contains("CERTIFICATE_EXPIRED") {
            self = .certificateExpired
        } else if upper.contains("UNKNOWN_CA") {
            self = .unknownCA
        } else if upper.contains("BAD_CERTIFICATE") || upper.contains("CERTIFICATE_UNKNOWN")
            || upper.contains("UNSUPPORTED_CERTIFICATE") || upper.contains("DECRYPT_ERROR")
        {
            self = .certificateRejected
        } else if upper.contains("NO_SHARED_CIPHER") || upper.contains("HANDSHAKE_FAILURE_ON_CLIENT_HELLO") {
            self = .noSharedCipher
        } else if upper.contains("PROTOCOL_VERSION") || upper.contains("UNSUPPORTED_PROTOCOL") {
            self = .protocolVersion
        } else if upper.contains("HTTP_REQUEST") || upper.contains("WRONG_VERSION_NUMBER") {
            self = .plainHTTP
        } else if upper.contains("DECRYPTION_FAILED_OR_BAD_RECORD_MAC") || upper.contains("BAD_PACKET_LENGTH") {
            self = .clientAborted
        } else if upper.contains("EOF DURING HANDSHAKE") {
            self = .clientClosed
        } else {
            self = .other
        }
    }

    /// What the operator should look at.
    public var hint: String {
        switch self {
        case .certificateExpired:
            "the client says the certificate has expired: renew it (contrib/make-boot-ca), or check the client's clock"
        case .unknownCA:
            "the client does not trust the CA that signed the certificate: enroll the CA in the firmware (TlsCaCertificate) or build iPXE with TRUST="
        case .certificateRejected:
            "the client refused the certificate: does it name the host in the boot URL (an IP address needs an IP SAN)?"
        case .noSharedCipher:
            "no cipher in common: firmware without elliptic curves needs RSA key exchange and an RSA certificate"
        case .protocolVersion:
            "no TLS version in common: firmware stops at TLS 1.2"
        case .plainHTTP:
            "plain HTTP was sent to the HTTPS port: use https:// or the --http listener"
        case .clientAborted:
            "the client ended the handshake after the certificate without saying why (TLS 1.3): most often an unknown CA, an expired certificate, or a name that does not match"
        case .clientClosed:
            "the client closed the connection during the handshake without an alert (UEFI firmware refuses a certificate so): check the CA enrolled in it, the certificate's dates, and that it names the host in the boot URL"
        case .other:
            "the handshake did not complete"
        }
    }
}
