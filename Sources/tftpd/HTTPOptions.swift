import ArgumentParser
import NIOCore
import TFTPCore

/// The HTTP sibling: off unless `--http` is given.
struct HTTPOptions: ParsableArguments {
    @Option(
        name: .customLong("http"),
        help: ArgumentHelp(
            "Also serve the root over HTTP/1.1 on this address; repeatable. Off by default.",
            valueName: "addr:port"
        )
    )
    var http: [String] = []

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
        guard httpMaxHeaderBytes >= 256, httpHeaderTimeout > 0, httpIdleTimeout > 0, httpMaxConnections > 0 else {
            throw ValidationError("--http-max-header-bytes must be at least 256; HTTP timeouts and limits positive")
        }
    }

    var addresses: [ListenAddress] { http.compactMap { ListenAddress(parsing: $0) } }

    /// The listener's settings, or nil when HTTP is off.
    func configuration(gracePeriod: TimeAmount, filenameMap: FilenameMap, nameResolver: NameResolver)
        -> HTTPConfiguration?
    {
        guard !addresses.isEmpty else { return nil }
        return HTTPConfiguration(
            listen: addresses,
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
