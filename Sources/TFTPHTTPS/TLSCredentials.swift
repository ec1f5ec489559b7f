import Glibc
import NIOConcurrencyHelpers
import NIOSSL

/// The certificate chain and key an HTTPS listener serves, as a TLS context every new
/// connection takes (docs/https-boot.md). Loaded at start (a bad file stops the start, with
/// the reason); read again on SIGHUP or when either file changes, by the daemon's one
/// watcher of the files it reads after start (``TFTPCore/ConfigWatcher``), which hands
/// ``replace(certificatePEM:keyPEM:)`` both files' bytes; a pair that does not load keeps
/// the context in use. Connections already open keep the context they began with.
///
/// The context offers TLS 1.2 and 1.3 and, besides the ECDHE suites, RSA key exchange with
/// AES-GCM and AES-CBC: EDK2 firmware built without elliptic curves (its NOEC builds, the
/// common case before 2023) can do nothing else, and stops at TLS 1.2. One certificate serves
/// every name, so a client that sends no server name (SNI) gets it too.
public final class TLSCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let state: NIOLockedValueBox<Loaded>

    struct Loaded {
        var context: NIOSSLContext
        var facts: TLSCertificateFacts
    }

    /// Reads both files and loads them.
    public convenience init(certificate: String, key: String) throws(TLSCredentialsError) {
        try self.init(
            certificatePEM: try Self.read(certificate), keyPEM: try Self.read(key), certificatePath: certificate,
            keyPath: key)
    }

    /// Loads a certificate chain and its key from their PEM bytes; the paths are named in
    /// errors.
    public init(certificatePEM: [UInt8], keyPEM: [UInt8], certificatePath: String, keyPath: String)
        throws(TLSCredentialsError)
    {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        state = NIOLockedValueBox(
            try Self.load(certificate: certificatePEM, key: keyPEM, certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context for a new connection.
    public var context: NIOSSLContext { state.withLockedValue { $0.context } }

    /// The served certificate's names and validity.
    public var facts: TLSCertificateFacts { state.withLockedValue { $0.facts } }

    /// Serves a new pair from the next connection on. On failure the pair in use stays,
    /// and the error says why.
    @discardableResult
    public func replace(certificatePEM: [UInt8], keyPEM: [UInt8]) throws(TLSCredentialsError) -> TLSCertificateFacts {
        let loaded = try Self.load(
            certificate: certificatePEM, key: keyPEM, certificatePath: certificatePath, keyPath: keyPath)
        state.withLockedValue { $0 = loaded }
        return loaded.facts
    }

    static func read(_ path: String) throws(TLSCredentialsError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }

    static func load(certificate: [UInt8], key: [UInt8], certificatePath: String, keyPath: String)
        throws(TLSCredentialsError) -> Loaded
    {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificate)
        } catch {
            throw .unreadable(path: certificatePath, reason: "\(error)")
        }
        guard let leaf = chain.first else { throw .noCertificate(path: certificatePath) }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: key, format: .pem)
        } catch {
            throw .unreadable(path: keyPath, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuiteValues = Self.cipherSuites
        do {
            return Loaded(context: try NIOSSLContext(configuration: configuration), facts: TLSCertificateFacts(leaf))
        } catch NIOSSLError.failedToLoadPrivateKey {
            // The key read as a key above: the context refuses it only when it is not the
            // certificate's (BoringSSL checks the pair).
            throw .keyDoesNotMatch(certificate: certificatePath, key: keyPath)
        } catch {
            throw .rejected(reason: "\(error)")
        }
    }

    /// TLS 1.2 suites offered, strongest first (TLS 1.3's are always on): forward-secret
    /// ECDHE ones for clients that have elliptic curves, then RSA key exchange for EDK2 NOEC
    /// builds (docs/https-boot.md, "What each firmware needs").
    public static let cipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        .TLS_RSA_WITH_AES_128_GCM_SHA256, .TLS_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_RSA_WITH_AES_128_CBC_SHA, .TLS_RSA_WITH_AES_256_CBC_SHA,
    ]
}
