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

    public init(
        root: String,
        listen: [ListenAddress] = [ListenAddress(host: "::", port: 69)],
        transfer: ServerTransfer.Configuration = .init(),
        contentPolicy: ContentRoot.Policy = .init(),
        maxTransfers: Int = 1000,
        maxPerClient: Int = 256,
        gracePeriod: TimeAmount = .seconds(10)
    ) {
        self.root = root
        self.listen = listen
        self.transfer = transfer
        self.contentPolicy = contentPolicy
        self.maxTransfers = maxTransfers
        self.maxPerClient = maxPerClient
        self.gracePeriod = gracePeriod
    }
}
