import NIOCore

/// The HTTP listener's settings; every limit has a production default.
public struct HTTPConfiguration: Sendable {
    /// Plain HTTP listeners (`--http`).
    public var listen: [ListenAddress]
    /// HTTPS listeners (`--https`), secured by ``security``.
    public var secureListen: [ListenAddress]
    /// The TLS handlers for ``secureListen`` (required when it is not empty).
    public var security: HTTPListenerSecurity?
    /// Serve an HTML listing for `dir/` URLs (off: 403).
    public var listing: Bool
    /// Request line plus headers; past it: 414 (still in the request line) or 431.
    public var maxHeaderBytes: Int
    /// Longest request target; past it: 414.
    public var maxTargetLength: Int
    /// From the first byte of a request to the end of its headers (slowloris): 408.
    public var headerTimeout: TimeAmount
    /// An open keep-alive connection with no request in progress is closed after this.
    public var idleTimeout: TimeAmount
    /// Connections at once; further ones are closed at once.
    public var maxConnections: Int
    /// How long responses in flight may finish after SIGTERM.
    public var gracePeriod: TimeAmount
    /// `--map` rules, shared with TFTP.
    public var filenameMap: FilenameMap
    /// Per-client directories and case-insensitive names, shared with TFTP.
    public var nameResolver: NameResolver
    /// `--machines`: the script rendered per machine, and each request on its timeline.
    public var machines: MachineService?
    /// `--origin`: where a name missing from the root is fetched from (docs/fleet.md).
    public var origin: (any ContentOrigin)?

    public init(
        listen: [ListenAddress],
        secureListen: [ListenAddress] = [],
        security: HTTPListenerSecurity? = nil,
        listing: Bool = false,
        maxHeaderBytes: Int = 16 * 1024,
        maxTargetLength: Int = 4096,
        headerTimeout: TimeAmount = .seconds(10),
        idleTimeout: TimeAmount = .seconds(60),
        maxConnections: Int = 1024,
        gracePeriod: TimeAmount = .seconds(10),
        filenameMap: FilenameMap = .init(),
        nameResolver: NameResolver = .init()
    ) {
        self.listen = listen
        self.secureListen = secureListen
        self.security = security
        self.listing = listing
        self.maxHeaderBytes = maxHeaderBytes
        self.maxTargetLength = maxTargetLength
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.gracePeriod = gracePeriod
        self.filenameMap = filenameMap
        self.nameResolver = nameResolver
    }
}
