import NIOConcurrencyHelpers

/// What tftpd serves from now, for the status page and `/api/transfers`: the version of
/// each file it reads after start (its content hash and when it was loaded, and the last
/// reload that failed, if the one after it has not succeeded), and the directory the root's
/// path leads to (docs/operations.md, "Reloading"). Written by ``ConfigWatcher`` and by the
/// content root's change reports; read when a page is asked for.
public final class ConfigVersions: Sendable {
    /// One file (or files read together, such as a certificate and its key) as loaded.
    public struct Version: Sendable, Equatable {
        /// The source's name: `machines`, `map-file`, `tls` (the metric's `file` label).
        public var name: String
        public var paths: [String]
        /// SHA-256 of the files' contents in the order of ``paths``, hex: what
        /// `cat PATHS | sha256sum` prints, so servers fed from one place can be compared.
        public var sha256: String
        public var bytes: Int
        /// When this version was loaded (milliseconds since the epoch).
        public var loadedAt: Int64
        /// The last reload that failed since, with why: the version above still serves.
        public var failure: String?
        public var failedAt: Int64?
    }

    /// What the root's path leads to.
    public struct Root: Sendable, Equatable {
        public var path: String
        /// The directory it leads to, as `realpath` says.
        public var resolved: String
        /// When tftpd began serving from it (milliseconds since the epoch).
        public var since: Int64
        /// Set while the path leads nowhere (the directory above still serves).
        public var unreachable: String?
    }

    private struct State {
        var versions: [String: Version] = [:]
        var order: [String] = []
        var root: Root?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The versions in use, in the order their sources were first loaded.
    public var versions: [Version] {
        state.withLockedValue { state in state.order.compactMap { state.versions[$0] } }
    }

    public var root: Root? { state.withLockedValue { $0.root } }

    /// A source loaded: this version serves from now on.
    public func loaded(_ name: String, paths: [String], sha256: String, bytes: Int, at time: Int64) {
        state.withLockedValue { state in
            if state.versions[name] == nil { state.order.append(name) }
            state.versions[name] = Version(
                name: name, paths: paths, sha256: sha256, bytes: bytes, loadedAt: time, failure: nil, failedAt: nil)
        }
    }

    /// The digest shown for a source that never loaded.
    public static let noVersion = "none"

    /// The version of `name` in use.
    public func version(of name: String) -> Version? {
        state.withLockedValue { $0.versions[name] }
    }

    /// A reload of a source failed: its version in use stays (a remote source that never
    /// loaded is listed with no version: no digest, no bytes).
    public func failed(_ name: String, reason: String, at time: Int64, paths: [String] = []) {
        state.withLockedValue { state in
            if state.versions[name] == nil {
                state.order.append(name)
                state.versions[name] = Version(
                    name: name, paths: paths, sha256: Self.noVersion, bytes: 0, loadedAt: time, failure: nil,
                    failedAt: nil)
            }
            state.versions[name]?.failure = reason
            state.versions[name]?.failedAt = time
        }
    }

    /// The root's path leads to `resolved` from `time` on (or, with `unreachable`, leads
    /// nowhere now while the last directory serves).
    public func root(path: String, resolved: String?, unreachable: String? = nil, at time: Int64) {
        state.withLockedValue { state in
            if let resolved {
                state.root = Root(path: path, resolved: resolved, since: time, unreachable: nil)
            } else {
                state.root?.unreachable = unreachable
            }
        }
    }
}
