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
        public var paths: [String]
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
            self.maxBytes = maxBytes
            self.install = install
        }
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
    private let logger: Logger
    private let metrics: ServerMetrics
    private let digest: @Sendable ([UInt8]) -> String
    /// Each source's stamps at its last load or attempt, by name: a failed version is
    /// reported once, not on every look.
    private let seen = NIOLockedValueBox<[String: [FileStamp?]]>([:])

    /// `digest`: SHA-256 of the bytes, in hex (TFTPCore links no cryptography).
    public init(
        sources: [Source], versions: ConfigVersions = ConfigVersions(), logger: Logger, metrics: ServerMetrics,
        interval: Duration = .seconds(1), digest: @escaping @Sendable ([UInt8]) -> String
    ) {
        self.sources = sources
        self.versions = versions
        self.interval = interval
        self.logger = logger
        self.metrics = metrics
        self.digest = digest
        for source in sources { metrics.config.register(source.name) }
    }

    /// Loads every source (at start); the first that cannot be used is thrown.
    public func loadAll() throws(LoadError) {
        for source in sources {
            if case .failure(let error) = load(source, because: nil) { throw error }
        }
    }

    /// Reloads the sources whose files look different from the last look.
    public func reloadChanged() {
        for source in sources {
            let stamps = source.paths.map(FileStamp.init(path:))
            guard seen.withLockedValue({ $0[source.name] }) != stamps else { continue }
            _ = load(source, because: "the file changed")
        }
    }

    /// Reloads every source now (SIGHUP).
    public func reloadAll(because reason: String) {
        for source in sources { _ = load(source, because: reason) }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    reloadChanged()
                }
            }
            tasks.addTask { try? await gracefulShutdown() }
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Reads and installs `source`; `reason` nil at start (no reload is counted then).
    private func load(_ source: Source, because reason: String?) -> Result<Void, LoadError> {
        let stamps = source.paths.map(FileStamp.init(path:))
        seen.withLockedValue { $0[source.name] = stamps }
        let now = TransferBoard.wallClock()
        do throws(LoadError) {
            let contents = try source.paths.map { path throws(LoadError) in
                try Self.read(path, limit: source.maxBytes, source: source.name)
            }
            var said: Logger.Metadata
            do {
                said = try source.install(contents)
            } catch {
                throw LoadError(source: source.name, reason: "\(error)")
            }
            let all = contents.flatMap { $0 }
            let hash = digest(all)
            versions.loaded(source.name, paths: source.paths, sha256: hash, bytes: all.count, at: now)
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
            if let reason {
                versions.failed(source.name, reason: error.reason, at: now)
                metrics.config.reloaded(source.name, .failed)
                logger.error(
                    "config: kept the version in use: the new one cannot be used",
                    metadata: ["file": "\(source.name)", "because": "\(reason)", "error": "\(error.reason)"])
            }
            return .failure(error)
        }
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
