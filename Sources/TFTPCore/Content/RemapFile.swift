import NIOConcurrencyHelpers

/// The rules of `--map-file` in use (``RemapRules``), shared by TFTP and HTTP: read at start
/// and again when the file changes or on SIGHUP (``ConfigWatcher``), replaced whole, so a
/// request is rewritten by the old rules or the new ones, never a mix. Each replacement
/// moves ``generation`` on, so a cache of rewritten names knows it is stale.
public final class RemapFile: Sendable {
    private let current: NIOLockedValueBox<(rules: RemapRules, generation: UInt64)>

    public init(_ rules: RemapRules) {
        current = NIOLockedValueBox((rules, 1))
    }

    /// The rules in use now.
    public var rules: RemapRules { current.withLockedValue { $0.rules } }

    /// Moves on with each replacement.
    public var generation: UInt64 { current.withLockedValue { $0.generation } }

    /// Serves `rules` from the next request on.
    public func replace(_ rules: RemapRules) {
        current.withLockedValue { $0 = (rules, $0.generation + 1) }
    }
}
