import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import TFTPCore

/// The origin behind the root (`--origin`, docs/fleet.md): a name missing from the local root
/// is fetched from another server into the cache (`--cache`) and served from there, through
/// the same door as local files (``ContentRoot`` beneath the cache's `files/`). A boot storm
/// costs the origin one fetch per file: concurrent misses for one name share one download
/// (``ArrivingFile``), which readers read as it lands. Cached copies are revalidated with the
/// origin's ETag and Last-Modified once older than `--origin-ttl`, and keep being served,
/// stale, while the origin does not answer; with `--origin-manifest` every file is checked
/// against the manifest's SHA-256 before it is served. Least recently used files go when the
/// cache is over `--cache-size`.
///
/// ``lookup(_:)`` never waits, so an engine thread may call it; the downloads run in this
/// service's task group (``run()``), on the ecosystem's HTTP client (AsyncHTTPClient).
public final class OriginCache: ContentOrigin, Service, Sendable {
    struct State {
        var entries: [String: OriginEntry] = [:]
        /// When each entry was last used (monotonic nanoseconds), for eviction.
        var used: [String: UInt64] = [:]
        var arriving: [String: ArrivingFile] = [:]
        /// Names the origin said it does not have, until when (monotonic nanoseconds).
        var absent: [String: UInt64] = [:]
        var bytes: Int64 = 0
        /// The manifest parsed, with the digest of the bytes it was parsed from.
        var manifest: (sha256: String, parsed: OriginManifest)?
        var reachable = true
        /// While the origin does not answer: until when a cached copy is served as it is, and
        /// a missing name refused, without asking again (monotonic nanoseconds).
        var unreachableUntil: UInt64 = 0
        var lastError: String?
        var lastErrorAt: Int64?
        var hits = 0
        var misses = 0
        var staleServes = 0
        var evictions = 0
    }

    /// A download or revalidation to run.
    struct Job: Sendable {
        var name: String
        var arriving: ArrivingFile
        /// The copy held now, whose validators go with the request.
        var cached: OriginEntry?
    }

    public let configuration: OriginConfiguration
    let http: OriginHTTP
    var client: HTTPClient { http.client }
    /// Where cached files are served from, and where partial downloads are read from: both
    /// through the door.
    let files: ContentRoot
    let parts: ContentRoot
    let logger: Logger
    let metrics: OriginMetrics
    let state = NIOLockedValueBox(State())
    private let jobs: AsyncStream<Job>
    private let queue: AsyncStream<Job>.Continuation

    /// Opens (creating) the cache directory and reads what it holds: `files/` (served),
    /// `parts/` (downloads on their way), `index/` (what is known of each file), `config/`
    /// (the last version of configuration fetched from a URL).
    public init(
        configuration: OriginConfiguration, http: OriginHTTP, logger: Logger, metrics: OriginMetrics = OriginMetrics()
    ) throws {
        self.configuration = configuration
        self.http = http
        self.logger = logger
        self.metrics = metrics
        let base = URL(fileURLWithPath: configuration.cacheDirectory)
        for folder in ["files", "parts", "index", "config"] {
            try FileManager.default.createDirectory(
                at: base.appendingPathComponent(folder), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        }
        // Partial downloads of an earlier run are of no use.
        for leftover
            in (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("parts").path))
            ?? []
        {
            try? FileManager.default.removeItem(
                at: base.appendingPathComponent("parts").appendingPathComponent(leftover))
        }
        files = try ContentRoot(path: base.appendingPathComponent("files").path, recheckInterval: .hours(24))
        parts = try ContentRoot(path: base.appendingPathComponent("parts").path, recheckInterval: .hours(24))
        (jobs, queue) = AsyncStream.makeStream(of: Job.self)
        let known = loadIndex()
        state.withLockedValue { state in
            for entry in known {
                state.entries[entry.name] = entry
                state.used[entry.name] = 0
                state.bytes += entry.size
            }
        }
        metrics.held(state.withLockedValue { $0.bytes })
    }

    // MARK: - Lookup

    public func lookup(_ path: RequestPath) throws(ContentError) -> OriginContent {
        let name = String(decoding: path.relativePath, as: UTF8.self)
        let now = NIODeadline.now().uptimeNanoseconds
        let wall = TransferBoard.wallClock()
        enum Decision {
            case serve(OriginEntry, stale: Bool)
            case join(ArrivingFile)
            case absent
            case unreachable(String)
            case fetch(Job)
        }
        let decision = state.withLockedValue { state -> Decision in
            if let arriving = state.arriving[name] { return .join(arriving) }
            if let until = state.absent[name], until > now { return .absent }
            let cached = state.entries[name]
            let down = state.unreachableUntil > now
            if let cached, down || fresh(cached, at: wall) && vouched(cached, by: state.manifest?.parsed) {
                state.used[name] = now
                state.hits += 1
                let stale = down && !fresh(cached, at: wall)
                if stale { state.staleServes += 1 }
                return .serve(cached, stale: stale)
            }
            if down, cached == nil { return .unreachable(state.lastError ?? "no answer") }
            let arriving = ArrivingFile(name: name)
            state.arriving[name] = arriving
            if cached == nil { state.misses += 1 }
            return .fetch(Job(name: name, arriving: arriving, cached: cached))
        }
        switch decision {
        case .join(let arriving):
            return .arriving(arriving)
        case .absent:
            throw .notFound
        case .unreachable(let reason):
            throw .originUnavailable(reason)
        case .fetch(let job):
            if job.cached == nil { metrics.miss() }
            queue.yield(job)
            return .arriving(job.arriving)
        case .serve(let entry, let stale):
            metrics.hit()
            if stale { metrics.servedStale() }
            do {
                return .cached(try files.open(path))
            } catch {
                // The copy went away under the index: fetch it again.
                state.withLockedValue { state in
                    if state.entries.removeValue(forKey: entry.name) != nil { state.bytes -= entry.size }
                }
                return try lookup(path)
            }
        }
    }

    /// Whether the origin vouched for `entry` within `--origin-ttl` of `now` (wall clock).
    func fresh(_ entry: OriginEntry, at now: Int64) -> Bool {
        now - entry.fetchedAt < configuration.freshness.nanoseconds / 1_000_000
    }

    /// Whether the manifest (when there is one, and it is parsed) lists `entry` with its
    /// digest; without a parsed manifest, a fresh copy is asked of the origin again.
    func vouched(_ entry: OriginEntry, by manifest: OriginManifest?) -> Bool {
        guard configuration.manifest != nil, entry.name != configuration.manifest else { return true }
        return manifest?.digest(of: entry.name) == entry.sha256
    }

    // MARK: - The service

    /// Runs the downloads until shutdown: then what is on its way ends (its readers get an
    /// error) and the HTTP client closes.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [self] in
                await withTaskGroup(of: Void.self) { downloads in
                    for await job in jobs {
                        downloads.addTask { await self.run(job) }
                    }
                }
            }
            tasks.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await probeWhileUnreachable()
                }
            }
            tasks.addTask { [self] in
                try? await gracefulShutdown()
                queue.finish()
            }
            await tasks.next()
            tasks.cancelAll()
        }
        let left = state.withLockedValue { state in
            defer { state.arriving.removeAll() }
            return Array(state.arriving.values)
        }
        for arriving in left { arriving.fail(.originUnavailable("the server is shutting down")) }
    }

    /// The origin and the cache, for the status page.
    public var status: OriginStatus {
        state.withLockedValue { state in
            OriginStatus(
                url: configuration.url, reachable: state.reachable, lastError: state.lastError,
                lastErrorAt: state.lastErrorAt, entries: state.entries.count, bytes: state.bytes,
                limit: configuration.cacheSize, downloads: state.arriving.count, hits: state.hits,
                misses: state.misses, staleServes: state.staleServes, evictions: state.evictions)
        }
    }

    // MARK: - The index on disk

    /// Where what is known of `name` is kept: named by the SHA-256 of the name.
    func indexURL(of name: String) -> URL {
        URL(fileURLWithPath: configuration.cacheDirectory).appendingPathComponent("index")
            .appendingPathComponent(Self.hex(SHA256.hash(data: Array(name.utf8))) + ".json")
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    func save(_ entry: OriginEntry) {
        guard let data = try? JSONEncoder().encode(entry) else { return }
        try? data.write(to: indexURL(of: entry.name), options: .atomic)
    }

    /// What the cache held at start: entries whose file is still there.
    private func loadIndex() -> [OriginEntry] {
        let folder = URL(fileURLWithPath: configuration.cacheDirectory).appendingPathComponent("index")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found: [OriginEntry] = []
        for file in names where file.hasSuffix(".json") {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
                let entry = try? JSONDecoder().decode(OriginEntry.self, from: data),
                let path = try? RequestPath(Array(entry.name.utf8)), (try? files.open(path))?.size == entry.size
            else {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(file))
                continue
            }
            found.append(entry)
        }
        return found
    }
}
