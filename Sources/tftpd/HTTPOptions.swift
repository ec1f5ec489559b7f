import ArgumentParser
import NIOCore
import TFTPCore

/// The HTTP sibling: off unless `--http` or `--https` is given.
struct HTTPOptions: ParsableArguments {
    @Option(
        name: .customLong("http"),
        help: ArgumentHelp(
            "Also serve the root over HTTP/1.1 on this address; repeatable. Off by default.",
            valueName: "addr:port"
        )
    )
    var http: [String] = []

    @Option(
        name: .customLong("https"),
        help: ArgumentHelp(
            "Also serve the root over HTTPS (TLS 1.2 and 1.3) on this address; repeatable. Needs --tls-cert and --tls-key.",
            valueName: "addr:port"
        )
    )
    var https: [String] = []

    @Option(
        help: ArgumentHelp(
            "HTTPS: the certificate chain, PEM, the server's certificate first (contrib/make-boot-ca makes one). Re-read on SIGHUP and when the file changes.",
            valueName: "file"
        )
    )
    var tlsCert: String?

    @Option(help: ArgumentHelp("HTTPS: the certificate's private key, PEM.", valueName: "file"))
    var tlsKey: String?

    @Flag(help: "HTTP: list directories (dir/ URLs); without it they get 403.")
    var httpListing = false

    @Option(help: "HTTP: most bytes of request line and headers; more gets 414 or 431.")
    var httpMaxHeaderBytes = 16 * 1024

    @Option(help: "HTTP: seconds a client may take to send its request headers; then 408.")
    var httpHeaderTimeout = 10

    @Option(help: "HTTP: seconds an idle keep-alive connection stays open.")
    var httpIdleTimeout = 60

    @Option(help: "HTTP: connections at once; further ones are closed.")
    var httpMaxConnections = 1024

    func validate() throws {
        for text in http where ListenAddress(parsing: text) == nil {
            throw ValidationError("--http \(text): expected ADDR:PORT, e.g. 0.0.0.0:8080 or [::]:8080")
        }
        for text in https where ListenAddress(parsing: text) == nil {
            throw ValidationError("--https \(text): expected ADDR:PORT, e.g. 0.0.0.0:443 or [::]:8443")
        }
        if !https.isEmpty, tlsCert == nil || tlsKey == nil {
            throw ValidationError("--https needs --tls-cert FILE and --tls-key FILE")
        }
        if https.isEmpty, tlsCert != nil || tlsKey != nil {
            throw ValidationError("--tls-cert and --tls-key need --https ADDR:PORT")
        }
        guard httpMaxHeaderBytes >= 256, httpHeaderTimeout > 0, httpIdleTimeout > 0, httpMaxConnections > 0 else {
            throw ValidationError("--http-max-header-bytes must be at least 256; HTTP timeouts and limits positive")
        }
    }

    var addresses: [ListenAddress] { http.compactMap { ListenAddress(parsing: $0) } }
    var secureAddresses: [ListenAddress] { https.compactMap { ListenAddress(parsing: $0) } }

    /// The certificate and key files of `--https`, or nil without it.
    var tlsFiles: (certificate: String, key: String)? {
        guard !https.isEmpty, let tlsCert, let tlsKey else { return nil }
        return (tlsCert, tlsKey)
    }

    /// The listeners' settings, or nil when HTTP is off. The TLS handlers of `--https` are
    /// added by the daemon once it has loaded the certificate.
    func configuration(gracePeriod: TimeAmount, filenameMap: FilenameMap, nameResolver: NameResolver)
        -> HTTPConfiguration?
    {
        guard !addresses.isEmpty || !secureAddresses.isEmpty else { return nil }
        return HTTPConfiguration(
            listen: addresses,
            secureListen: secureAddresses,
            listing: httpListing,
            maxHeaderBytes: httpMaxHeaderBytes,
            headerTimeout: .seconds(Int64(httpHeaderTimeout)),
            idleTimeout: .seconds(Int64(httpIdleTimeout)),
            maxConnections: httpMaxConnections,
            gracePeriod: gracePeriod,
            filenameMap: filenameMap,
            nameResolver: nameResolver
        )
    }
}
