/// Where a name missing from the local root is looked for next (`--origin`, docs/fleet.md):
/// another server's files, fetched into a cache beside the root and served from there
/// through the same door. The origin's target implements it; the door only asks. A lookup
/// never waits: a file not yet cached, or due to be revalidated, comes back arriving.
public protocol ContentOrigin: Sendable {
    /// What the origin has for `path` (already sanitized and rewritten by the name rules):
    /// a cached copy (fresh, or stale while the origin is unreachable), a file arriving, or
    /// why not (``ContentError/notFound`` when the origin has no such file).
    func lookup(_ path: RequestPath) throws(ContentError) -> OriginContent
}

/// A name from the origin.
public enum OriginContent: Sendable {
    /// A copy in the cache, opened through the cache's door.
    case cached(ContentFile)
    /// On its way: a download, or a revalidation of the cached copy.
    case arriving(ArrivingFile)
}
