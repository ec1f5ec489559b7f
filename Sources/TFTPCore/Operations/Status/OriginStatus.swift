/// The origin and the cache as the status page shows them (`--origin`, docs/fleet.md).
public struct OriginStatus: Sendable, Equatable {
    public var url: String
    /// Whether the last request to the origin was answered.
    public var reachable: Bool
    /// Why the last request that failed did, and when (milliseconds since the epoch).
    public var lastError: String?
    public var lastErrorAt: Int64?
    /// Files in the cache, their bytes, and the limit (`--cache-size`).
    public var entries: Int
    public var bytes: Int64
    public var limit: Int64
    /// Downloads on their way now.
    public var downloads: Int
    /// Since start: names served from the cache, fetched, served stale while the origin was
    /// unreachable, and evicted.
    public var hits: Int
    public var misses: Int
    public var staleServes: Int
    public var evictions: Int

    public init(
        url: String, reachable: Bool, lastError: String?, lastErrorAt: Int64?, entries: Int, bytes: Int64,
        limit: Int64, downloads: Int, hits: Int, misses: Int, staleServes: Int, evictions: Int
    ) {
        self.url = url
        self.reachable = reachable
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.entries = entries
        self.bytes = bytes
        self.limit = limit
        self.downloads = downloads
        self.hits = hits
        self.misses = misses
        self.staleServes = staleServes
        self.evictions = evictions
    }
}
