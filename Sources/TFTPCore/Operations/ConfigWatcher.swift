import Glibc
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The one watcher of every file tftpd reads after start — the machines file, the map
/// file, the TLS certificate and key (docs/operations.md, "Reloading"). Each is a
/// ``Source``: its paths and how its contents are put to use. Every ``interval`` (one
/// second) each path's ``FileStamp`` is taken, following symbolic links, so a file rewritten
/// or renamed over, a swapped link, or a Kubernetes ConfigMap update (which swaps a `..data`
/// link) is seen within two seconds; SIGHUP reloads every source at once (``reloadAll``).
///
/// A source may also be a URL (`--machines https://…`, docs/fleet.md): it is asked every
/// ``remoteInterval`` with the ETag of the version in use (`If-None-Match`), and read again
/// when the origin has another; an origin that does not answer leaves the version in use
/// serving.
///
/// A reload reads the files, then installs them; a version that does not install (a parse
/// error, a key that is not the certificate's) leaves the one in use serving, and says why
/// once per change of the files. Each reload is reported the same way whatever the file: a
/// log line, `tftpd_config_reloads_total{file,result}`, and the version in use (content
/// hash, load time, last failure) in ``ConfigVersions`` for the status page.
public final class ConfigWatcher: Service, Sendable {
    /// A file, or files read together, and how their contents are put to use.
    public struct Source: Sendable {
        /// The name in logs and metrics: `machines`, `map-file`, `tls`.
        public var name: String
        /// Local files, read together; empty for a remote source.
        public var paths: [String]
        /// A URL asked instead of files (``RemoteFetcher``).
        public var url: String?
        /// Where the last version of a remote source that installed is kept: what tftpd
        /// starts with when the origin does not answer at start.
        public var keep: String?
        /// Files larger than this are refused (configuration is small; a wrong path to an
        /// image is a mistake worth a clear line).
        public var maxBytes: Int
        /// Parses and installs the files' contents (in the order of ``paths``) and returns
        /// what the log line says of the version now in use; throws, installing nothing,
        /// when it cannot be used (the error says why, with the line where there is one).
        public var install: @Sendable (_ contents: [[UInt8]]) throws -> Logger.Metadata

        public init(
            name: String, paths: [String], maxBytes: Int = 16 << 20,
            install: @escaping @Sendable (_ contents: [[UInt8]]) throws -> Logger.Metadata
        ) {
            self.name = name
            self.paths = paths
            self.url = nil
            self.maxBytes = maxBytes
            self.install = install
        }

        /// A source read from `url` (one file); the last version that installed is kept at
        /// `keep`, when given.
        public init(
            name: String, url: String, keep: String? = nil, maxBytes: Int = 16 << 20,
            install: @escaping @Sendable (_ contents: [[UInt8]]) throws -> Logger.Metadata
        ) {
            self.name = name
            self.paths = []
            self.url = url
            self.keep = keep
            self.maxBytes = maxBytes
            self.install = install
        }

        /// Where it is read from, for the status page.
        var locations: [String] { url.map { [$0] } ?? paths }
    }

    /// How a remote source is asked (the origin's HTTP client).
    public protocol RemoteFetcher: Sendable {
        /// The file at `url`, or nil when it is still the version whose ETag is `etag`;
        /// throws when the origin cannot be asked or answers with an error.
        func fetch(_ url: String, etag: String?, limit: Int) async throws -> (bytes: [UInt8], etag: String?)?
    }

    /// A source that could not be loaded, and why.
    public struct LoadError: Error, CustomStringConvertible {
        public var source: String
        public var reason: String
        public var description: String { reason }
    }

    public let sources: [Source]
    public let versions: ConfigVersions
    public let interval: Duration
    /// How often a remote source is asked.
    public let remoteInterval: Duration
    private let fetcher: (any RemoteFetcher)?
    /// Each remote source's ETag of the version in use, and the remote sources whose origin
    /// did not answer last time (reported once per outage, not on every ask).
    private let etags = NIOLockedValueBox<[String: String]>([:])
    private let unanswered = NIOLockedValueBox<Set<String>>([])
    /// The digest of each remote source's last version that did not install.
    private let refused = NIOLockedValueBox<[String: String]>([:])
    private let logger: Logger
    private let metrics: ServerMetrics
    private let digest: @Sendable ([UInt8]) -> String
    /// Each source's stamps at its last load or attempt, by name: a failed version is
    /// reported once, not on every look.
    private let seen = NIOLockedValueBox<[String: [FileStamp?]]>([:])

    /// `digest`: SHA-256 of the bytes, in hex (TFTPCore links no cryptography).
    public init(
        sources: [Source], versions: ConfigVersions = ConfigVersions(), logger: Logger, metrics: ServerMetrics,
        interval: Duration = .seconds(1), remoteInterval: Duration = .seconds(10), fetcher: (any RemoteFetcher)? = nil,
        digest: @escaping @Sendable ([UInt8]) -> String
    ) {
        self.sources = sources
        self.versions = versions
        self.interval = interval
        self.remoteInterval = remoteInterval
        self.fetcher = fetcher
        self.logger = logger
        self.metrics = metrics
        self.digest = digest
        for source in sources { metrics.config.register(source.name) }
    }

    /// Loads every source (at start); the first local one that cannot be used is thrown. A
    /// remote source that cannot be had starts from its kept copy, or from nothing (its
    /// install is not called): a fleet's server starts while its origin is down, and the
    /// watcher keeps asking.
    public func loadAll() async throws(LoadError) {
        for source in sources {
            guard source.url != nil else {
                if case .failure(let error) = load(source, because: nil) { throw error }
                continue
            }
            guard case .failure(let error) = await loadRemote(source, because: nil, force: true) else { continue }
            if let keep = source.keep, let kept = try? Self.read(keep, limit: source.maxBytes, source: source.name),
                case .success = install(source, contents: [kept], because: nil)
            {
                logger.warning(
                    "config: the origin's version cannot be had; starting with the copy kept from the last run",
                    metadata: ["file": "\(source.name)", "kept": "\(keep)", "error": "\(error.reason)"])
            } else {
                versions.failed(
                    source.name, reason: error.reason, at: TransferBoard.wallClock(), paths: source.locations)
                logger.error(
                    "config: the origin's version cannot be had and no copy is kept; starting without it",
                    metadata: ["file": "\(source.name)", "error": "\(error.reason)"])
            }
        }
    }

    /// Reloads the local sources whose files look different from the last look.
    public func reloadChanged() {
        for source in sources where source.url == nil {
            let stamps = source.paths.map(FileStamp.init(path:))
            guard seen.withLockedValue({ $0[source.name] }) != stamps else { continue }
            _ = load(source, because: "the file changed")
        }
    }

    /// Asks the remote sources whether they changed, and reloads those that did.
    public func reloadRemote(because reason: String = "the origin has another version", force: Bool = false) async {
        for source in sources where source.url != nil {
            _ = await loadRemote(source, because: reason, force: force)
        }
    }

    /// Reloads every source now (SIGHUP): the files, and the remote ones asked afresh.
    public func reloadAll(because reason: String) async {
        for source in sources where source.url == nil { _ = load(source, because: reason) }
        await reloadRemote(because: reason, force: true)
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    reloadChanged()
                }
            }
            if sources.contains(where: { $0.url != nil }) {
                tasks.addTask { [self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: remoteInterval)
                        await reloadRemote()
                    }
                }
            }
            tasks.addTask { try? await gracefulShutdown() }
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Asks the origin for a remote source (with the ETag of the version in use unless
    /// `force`), and installs what it has if it is new. An origin that cannot be asked keeps
    /// the version in use (at start: an error).
    private func loadRemote(_ source: Source, because reason: String?, force: Bool) async -> Result<Void, LoadError> {
        guard let url = source.url, let fetcher else {
            return .failure(LoadError(source: source.name, reason: "no client for \(source.url ?? "?")"))
        }
        let known = force ? nil : etags.withLockedValue { $0[source.name] }
        if force { refused.withLockedValue { _ = $0.removeValue(forKey: source.name) } }
        let fetched: (bytes: [UInt8], etag: String?)?
        do {
            fetched = try await fetcher.fetch(url, etag: known, limit: source.maxBytes)
            unanswered.withLockedValue { _ = $0.remove(source.name) }
        } catch {
            let failure = LoadError(source: source.name, reason: "\(url): \(error)")
            let first = unanswered.withLockedValue { $0.insert(source.name).inserted }
            if let reason, first { report(failure, of: source, because: reason) }
            return .failure(failure)
        }
        guard let fetched else { return .success(()) }
        // An origin without ETags sends the whole file every time: the same bytes are not a
        // new version; and a version that did not install is not tried (nor reported) again.
        let hash = digest(fetched.bytes)
        if versions.version(of: source.name)?.sha256 == hash || refused.withLockedValue({ $0[source.name] }) == hash {
            etags.withLockedValue { $0[source.name] = fetched.etag }
            return .success(())
        }
        let result = install(source, contents: [fetched.bytes], because: reason)
        etags.withLockedValue { $0[source.name] = fetched.etag }
        switch result {
        case .success:
            refused.withLockedValue { _ = $0.removeValue(forKey: source.name) }
            if let keep = source.keep { Self.keep(fetched.bytes, at: keep) }
        case .failure:
            refused.withLockedValue { $0[source.name] = hash }
        }
        return result
    }

    /// Writes `bytes` to `path` whole or not at all (a file beside it, renamed over).
    static func keep(_ bytes: [UInt8], at path: String) {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        if written == bytes.count, synced {
            rename(temporary, path)
        } else {
            unlink(temporary)
        }
    }

    /// Reads and installs `source`; `reason` nil at start (no reload is counted then).
    private func load(_ source: Source, because reason: String?) -> Result<Void, LoadError> {
        let stamps = source.paths.map(FileStamp.init(path:))
        seen.withLockedValue { $0[source.name] = stamps }
        let contents: [[UInt8]]
        do throws(LoadError) {
            contents = try source.paths.map { path throws(LoadError) in
                try Self.read(path, limit: source.maxBytes, source: source.name)
            }
        } catch {
            if let reason { report(error, of: source, because: reason) }
            return .failure(error)
        }
        return install(source, contents: contents, because: reason)
    }

    /// Installs a version read from its files or its URL, and reports it.
    private func install(_ source: Source, contents: [[UInt8]], because reason: String?) -> Result<Void, LoadError> {
        let now = TransferBoard.wallClock()
        do throws(LoadError) {
            var said: Logger.Metadata
            do {
                said = try source.install(contents)
            } catch {
                throw LoadError(source: source.name, reason: "\(error)")
            }
            let all = contents.flatMap { $0 }
            let hash = digest(all)
            versions.loaded(source.name, paths: source.locations, sha256: hash, bytes: all.count, at: now)
            said["file"] = "\(source.name)"
            said["sha256"] = "\(hash.prefix(16))"
            if let reason {
                said["because"] = "\(reason)"
                metrics.config.reloaded(source.name, .ok)
                logger.notice("config: reloaded", metadata: said)
            } else {
                logger.info("config: loaded", metadata: said)
            }
            return .success(())
        } catch {
            if let reason { report(error, of: source, because: reason) }
            return .failure(error)
        }
    }

    /// A reload that failed: the version in use stays, and every report says so.
    private func report(_ error: LoadError, of source: Source, because reason: String) {
        versions.failed(source.name, reason: error.reason, at: TransferBoard.wallClock(), paths: source.locations)
        metrics.config.reloaded(source.name, .failed)
        logger.error(
            "config: kept the version in use: the new one cannot be used",
            metadata: ["file": "\(source.name)", "because": "\(reason)", "error": "\(error.reason)"])
    }

    /// The whole file at `path`, at most `limit` bytes.
    static func read(_ path: String, limit: Int, source: String) throws(LoadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LoadError(source: source, reason: "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw LoadError(source: source, reason: "\(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            if bytes.count > limit { throw LoadError(source: source, reason: "\(path): larger than \(limit) bytes") }
        }
    }
}
