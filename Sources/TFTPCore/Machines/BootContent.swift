import NIOCore

/// What a request's path is served, over TFTP and HTTP alike: the one place that decides it
/// (docs/machines.md, "One script path, rendered per machine"). With `--machines`, the
/// script's path is the asking machine's script, rendered for it from its profile — never a
/// file of that name; every other path is a file through the door (``ContentRoot``), looked
/// for in the client's own directory or without regard to case as the name rules say
/// (``NameResolver``); with `--origin`, a name missing from the local root is the origin's
/// (``ContentOrigin``: a cached copy, or a file arriving), the name rules applied before it
/// is asked (docs/fleet.md).
public struct BootContent: Sendable {
    /// What the path is served as.
    public enum Served: Sendable {
        /// A machine's rendered script: one version by construction, made for this request.
        case script(ByteBuffer)
        /// A file of the root, through the door.
        case file(ContentFile)
        /// A copy in the origin's cache, whole: not a file of the root, so never kept by its
        /// name in a cache of the root's files (``RecentFiles``).
        case cached(ContentFile)
        /// From the origin, on its way into the cache.
        case arriving(ArrivingFile)
    }

    public let root: ContentRoot
    public let names: NameResolver
    public let machines: MachineService?
    public let origin: (any ContentOrigin)?

    public init(
        root: ContentRoot, names: NameResolver = NameResolver(), machines: MachineService? = nil,
        origin: (any ContentOrigin)? = nil
    ) {
        self.root = root
        self.names = names
        self.machines = machines
        self.origin = origin
    }

    /// Whether `path` is the machines' script path (rendered per machine, so never kept by
    /// name in a cache).
    public func isScript(_ path: RequestPath) -> Bool {
        machines?.isScriptPath(path) ?? false
    }

    /// The content of `path` for `client`; `machine` is asked only for the script path.
    public func open(_ path: RequestPath, client: Requester, machine: () -> MachineIdentity)
        throws(ContentError) -> Served
    {
        if let machines, let script = machines.script(for: path, machine: machine(), root: root) {
            return .script(try script.get())
        }
        do {
            return .file(try names.open(path, client: client, in: root))
        } catch .notFound where origin != nil && !path.hasTrailingSeparator && !path.isRoot {
            switch try origin?.lookup(path) {
            case .cached(let file): return .cached(file)
            case .arriving(let arriving): return .arriving(arriving)
            case nil: throw .notFound
            }
        }
    }
}
