/// What the cache knows of one file it holds: where it came from and which version it is
/// (the origin's validators), its size and SHA-256, and when the origin last vouched for it.
/// Kept beside the file (`index/`), so a restart knows its cache.
struct OriginEntry: Codable, Sendable, Equatable {
    var name: String
    var size: Int64
    var etag: String?
    var lastModified: String?
    var sha256: String
    /// When the origin last said this is the file (milliseconds since the epoch).
    var fetchedAt: Int64
}
