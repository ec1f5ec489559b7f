import Logging
import NIOCore
import NIOSSL
import TFTPCore

extension HTTPListenerSecurity {
    /// TLS in front of each HTTPS connection, with the credentials' current context (taken
    /// when the connection is accepted, so a reload serves new connections), and a reporter
    /// that explains failed handshakes (with a witness in front that notes whether the client
    /// spoke at all).
    public static func tls(_ credentials: TLSCredentials, logger: Logger, metrics: TLSMetrics) -> Self {
        HTTPListenerSecurity { channel in
            let reporter = TLSHandshakeReporter(logger: logger, metrics: metrics)
            try channel.pipeline.syncOperations.addHandlers([
                TLSClientBytesWitness(reporter: reporter), NIOSSLServerHandler(context: credentials.context), reporter,
            ])
        }
    }
}
