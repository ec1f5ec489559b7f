import Glibc
import Logging
import ServiceLifecycle

/// Keeps an HTTPS listener's certificate current: every two seconds it looks whether the
/// certificate or key file changed (a renewal by certbot, a Kubernetes secret update, a
/// copy) and re-reads them; the daemon calls ``reload(because:)`` on SIGHUP too. A re-read
/// that fails keeps the certificate in use and logs why, once per change of the files.
public struct TLSCredentialsWatcher: Service {
    public let credentials: TLSCredentials
    public let logger: Logger
    public let interval: Duration

    public init(credentials: TLSCredentials, logger: Logger, interval: Duration = .seconds(2)) {
        self.credentials = credentials
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if credentials.filesChanged { reload(because: "the files changed") }
                }
            }
            tasks.addTask { try? await gracefulShutdown() }
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Re-reads the files now and says what is served.
    public func reload(because reason: String) {
        do {
            let facts = try credentials.reload()
            Self.describe(facts, logger: logger, reloaded: reason)
        } catch {
            logger.error(
                "tls: kept the certificate in use: the new one cannot be served",
                metadata: ["because": "\(reason)", "error": "\(error)"])
        }
    }

    /// The line that says which certificate is served: names, validity, and a warning when
    /// it is expired, not yet valid, or near its end.
    public static func describe(_ facts: TLSCertificateFacts, logger: Logger, reloaded: String? = nil) {
        var metadata: Logger.Metadata = [
            "names": "\(facts.alternativeNames.joined(separator: ","))",
            "not_after": "\(TLSCertificateFacts.day(facts.notValidAfter))",
            "serial": "\(facts.serialNumber)",
        ]
        if let name = facts.commonName { metadata["subject_cn"] = "\(name)" }
        if let reloaded { metadata["because"] = "\(reloaded)" }
        switch facts.validity(at: Int(time(nil))) {
        case .expired:
            logger.error("tls: the served certificate has expired: clients will refuse it", metadata: metadata)
        case .notYetValid:
            logger.error("tls: the served certificate is not valid yet: clients will refuse it", metadata: metadata)
        case .valid(let days) where days < 30:
            metadata["days_left"] = "\(days)"
            logger.warning("tls: the served certificate expires soon", metadata: metadata)
        case .valid:
            logger.notice(
                reloaded == nil ? "tls: serving certificate" : "tls: certificate reloaded", metadata: metadata)
        }
    }
}
