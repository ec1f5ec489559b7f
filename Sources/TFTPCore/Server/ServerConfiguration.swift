import NIOCore

/// Everything `tftpd` can be told; the defaults are those of a production boot server.
public struct ServerConfiguration: Sendable {
    /// The served directory (it may itself be a symlink).
    public var root: String
    /// Where to listen; transfer sockets bind to the same address with a fresh port.
    public var listen: [ListenAddress]
    /// Option limits and retransmission.
    public var transfer: ServerTransfer.Configuration
    /// What may be served.
    public var contentPolicy: ContentRoot.Policy
    /// Transfers running at once; an RRQ past this gets an ERROR (dnsmasq: 50, atftpd: 100).
    public var maxTransfers: Int
    /// Transfers running at once for one client IP address (any ports): bounds what a
    /// flood from one address, or requests spoofed with a victim's address, can take.
    public var maxPerClient: Int
    /// How long running transfers may go on after SIGTERM before they are ended.
    public var gracePeriod: TimeAmount
    /// Serve every transfer from the listening socket (`--single-port`), for NAT and
    /// strict firewalls; transfers are told apart by the client's address and port.
    public var singlePort: Bool
    /// Ports for transfer sockets (`--port-range`); nil: any free port the kernel picks.
    public var portRange: ClosedRange<Int>?
    /// `--map` rules applied to requested names before the path check.
    public var filenameMap: FilenameMap
    /// Per-client directories and case-insensitive names (`--per-client-dir`, `--case-insensitive`).
    public var nameResolver: NameResolver
    /// Cap each transfer's blksize to what fits the MTU of the listener's interface (the
    /// default of `tftpd` without `--max-blksize`; 1500 when the MTU cannot be found).
    public var fitBlockSizeToMTU: Bool
    /// Bound UDP sockets handed over by systemd (LISTEN_FDS), served besides ``listen``.
    public var inheritedSockets: [CInt]
    /// Engine threads (`--threads`): each reads its own socket of every listen address and
    /// runs the transfers it admitted. Default: the cores this process may run on.
    public var threads: Int
    /// Whether the engine chooses how many of ``threads`` take new requests by their load
    /// (`tftpd` without `--threads`; docs/architecture.md, "Engine threads that pay for
    /// themselves"). Otherwise, and always in single-port mode (where a client's ACKs come to
    /// the listening sockets, and must keep reaching their transfer's thread), every thread
    /// always takes its share.
    public var adaptiveThreads: Bool
    /// Bytes of DATA packets each transfer reads ahead with one preadv (a whole window when
    /// that is more). Per transfer, so 1000 lockstep transfers hold 16 MiB at the default.
    public var readAheadBytes: Int
    /// Where finished transfers and refusals are kept for the status page (`--status`).
    public var board: TransferBoard?
    /// `--machines`: the script rendered per machine, and each transfer on its timeline.
    public var machines: MachineService?
    /// `--origin`: where a name missing from the root is fetched from (docs/fleet.md).
    public var origin: (any ContentOrigin)?

    public init(
        root: String,
        listen: [ListenAddress] = [ListenAddress(host: "::", port: 69)],
        transfer: ServerTransfer.Configuration = .init(),
        contentPolicy: ContentRoot.Policy = .init(),
        maxTransfers: Int = 1000,
        maxPerClient: Int = 256,
        gracePeriod: TimeAmount = .seconds(10),
        singlePort: Bool = false,
        portRange: ClosedRange<Int>? = nil,
        filenameMap: FilenameMap = .init(),
        nameResolver: NameResolver = .init(),
        fitBlockSizeToMTU: Bool = false,
        inheritedSockets: [CInt] = [],
        threads: Int = System.coreCount,
        adaptiveThreads: Bool = false,
        readAheadBytes: Int = 16 * 1024,
        board: TransferBoard? = nil
    ) {
        self.root = root
        self.listen = listen
        self.transfer = transfer
        self.contentPolicy = contentPolicy
        self.maxTransfers = maxTransfers
        self.maxPerClient = maxPerClient
        self.gracePeriod = gracePeriod
        self.singlePort = singlePort
        self.portRange = portRange
        self.filenameMap = filenameMap
        self.nameResolver = nameResolver
        self.fitBlockSizeToMTU = fitBlockSizeToMTU
        self.inheritedSockets = inheritedSockets
        self.threads = max(1, threads)
        self.adaptiveThreads = adaptiveThreads
        self.readAheadBytes = max(0, readAheadBytes)
        self.board = board
    }
}
