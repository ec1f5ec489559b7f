import Glibc
import Logging
import TFTPCore

extension TLSCredentials {
    /// The certificate and key as one source of the daemon's watcher (``ConfigWatcher``,
    /// name `tls`): both files read together and loaded as a pair, so a renewal that writes
    /// one file and then the other is served once both match; until then the pair in use
    /// stays, with the reason logged once per change.
    public func source(logger: Logger) -> ConfigWatcher.Source {
        ConfigWatcher.Source(name: "tls", paths: [certificatePath, keyPath], maxBytes: 1 << 20) { contents in
            let facts = try self.replace(certificatePEM: contents[0], keyPEM: contents[1])
            Self.warn(about: facts, logger: logger)
            return Self.metadata(facts)
        }
    }

    /// What a log line says of a certificate: its names, validity and serial.
    public static func metadata(_ facts: TLSCertificateFacts) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "names": "\(facts.alternativeNames.joined(separator: ","))",
            "not_after": "\(TLSCertificateFacts.day(facts.notValidAfter))",
            "serial": "\(facts.serialNumber)",
        ]
        if let name = facts.commonName { metadata["subject_cn"] = "\(name)" }
        return metadata
    }

    /// A line when the certificate served is expired, not yet valid, or near its end:
    /// clients will refuse it, or soon will.
    public static func warn(about facts: TLSCertificateFacts, logger: Logger) {
        var metadata = metadata(facts)
        switch facts.validity(at: Int(time(nil))) {
        case .expired:
            logger.error("tls: the served certificate has expired: clients will refuse it", metadata: metadata)
        case .notYetValid:
            logger.error("tls: the served certificate is not valid yet: clients will refuse it", metadata: metadata)
        case .valid(let days) where days < 30:
            metadata["days_left"] = "\(days)"
            logger.warning("tls: the served certificate expires soon", metadata: metadata)
        case .valid:
            break
        }
    }
}
