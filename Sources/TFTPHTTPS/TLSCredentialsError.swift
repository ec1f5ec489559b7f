/// Why a certificate and key could not be served.
public enum TLSCredentialsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is missing, unreadable, or not PEM.
    case unreadable(path: String, reason: String)
    /// The certificate file holds no certificate.
    case noCertificate(path: String)
    /// The key is not the certificate's.
    case keyDoesNotMatch(certificate: String, key: String)
    /// The TLS library refused them together.
    case rejected(reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read a PEM certificate or key (\(reason))"
        case .noCertificate(let path): "\(path): no certificate in the file"
        case .keyDoesNotMatch(let certificate, let key): "\(key) is not the key of the certificate in \(certificate)"
        case .rejected(let reason): "the TLS library refused the certificate and key: \(reason)"
        }
    }
}
