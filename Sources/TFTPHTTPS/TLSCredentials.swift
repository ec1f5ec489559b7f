import Glibc
import NIOConcurrencyHelpers
import NIOSSL

/// The certificate chain and key an HTTPS listener serves, as a TLS context every new
/// connection takes (docs/https-boot.md). Loaded at start (a bad file stops the start, with
/// the reason); re-read on SIGHUP or when either file changes (``TLSCredentialsWatcher``),
/// and a re-read that fails keeps the context in use and says why. Connections already open
/// keep the context they began with.
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
        var stamps: [FileStamp?]
    }

    /// A file's identity and change marks: a file rewritten in place, replaced by rename, or
    /// changed by a symlink swap (as certbot and Kubernetes do) reads differently.
    struct FileStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int
        var modifiedNanoseconds: Int
        var changed: Int

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim.tv_sec
            modifiedNanoseconds = info.st_mtim.tv_nsec
            changed = info.st_ctim.tv_sec
        }
    }

    public init(certificate: String, key: String) throws(TLSCredentialsError) {
        certificatePath = certificate
        keyPath = key
        state = NIOLockedValueBox(try Self.load(certificate: certificate, key: key))
    }

    /// The context for a new connection.
    public var context: NIOSSLContext { state.withLockedValue { $0.context } }

    /// The served certificate's names and validity.
    public var facts: TLSCertificateFacts { state.withLockedValue { $0.facts } }

    /// Whether either file looks different from when it was last loaded.
    public var filesChanged: Bool {
        let now = [FileStamp(path: certificatePath), FileStamp(path: keyPath)]
        return state.withLockedValue { $0.stamps != now }
    }

    /// Reads both files again. On success the new context serves new connections; on
    /// failure the old one stays, and the error says why.
    @discardableResult
    public func reload() throws(TLSCredentialsError) -> TLSCertificateFacts {
        do {
            let loaded = try Self.load(certificate: certificatePath, key: keyPath)
            state.withLockedValue { $0 = loaded }
            return loaded.facts
        } catch {
            // Remember these files as seen, so a broken file is reported once, not every poll.
            let stamps = [FileStamp(path: certificatePath), FileStamp(path: keyPath)]
            state.withLockedValue { $0.stamps = stamps }
            throw error
        }
    }

    static func load(certificate: String, key: String) throws(TLSCredentialsError) -> Loaded {
        let stamps = [FileStamp(path: certificate), FileStamp(path: key)]
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw .unreadable(path: certificate, reason: "\(error)")
        }
        guard let leaf = chain.first else { throw .noCertificate(path: certificate) }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw .unreadable(path: key, reason: "\(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuiteValues = Self.cipherSuites
        do {
            return Loaded(
                context: try NIOSSLContext(configuration: configuration), facts: TLSCertificateFacts(leaf),
                stamps: stamps)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // The key file read as a key above: the context refuses it only when it is not
            // the certificate's (BoringSSL checks the pair).
            throw .keyDoesNotMatch(certificate: certificate, key: key)
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
