import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import TFTPCore

/// The HTTP client the origin is asked with (AsyncHTTPClient): for the cache's downloads and
/// for configuration read from a URL (`--machines https://…`, which it fetches for the one
/// watcher: ``ConfigWatcher/RemoteFetcher``). A service, so the client closes at shutdown after
/// the services that use it (list it before them).
public final class OriginHTTP: ConfigWatcher.RemoteFetcher, Service, Sendable {
    /// Why a remote file was not fetched.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let client: HTTPClient
    public let userAgent: String

    /// `certificateAuthority`: a PEM file of a private CA the origin's certificate is signed by.
    public init(certificateAuthority: String?, userAgent: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let certificateAuthority {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificateAuthority))
        }
        client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .follow(max: 3, allowCycles: false),
                timeout: .init(connect: .seconds(5), read: .seconds(30))))
        self.userAgent = userAgent
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try? await client.shutdown()
    }

    public func fetch(_ url: String, etag: String?, limit: Int) async throws -> (bytes: [UInt8], etag: String?)? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: userAgent)
        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
        let response = try await client.execute(request, timeout: .seconds(30))
        switch response.status.code {
        case 304 where etag != nil:
            return nil
        case 200:
            let body = try await response.body.collect(upTo: limit)
            return (Array(body.readableBytesView), response.headers.first(name: "etag"))
        default:
            throw Failure(description: "HTTP \(response.status.code)")
        }
    }
}
