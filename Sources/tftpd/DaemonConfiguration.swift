import Logging
import NIOCore
import TFTPCore
import TFTPOrigin

/// Everything `tftpd` will run, computed from the flags with no I/O: the TFTP server's
/// configuration, the HTTP listener's (or none), the operator endpoints, the log settings,
/// and every address to bind with the flag that named it (what `--check` tries).
struct DaemonConfiguration {
    /// One address to bind, for `--check` and for the startup gate's count.
    struct Binding: Equatable {
        enum Transport: Equatable { case udp, tcp }
        var flag: String
        var address: ListenAddress
        var transport: Transport
    }

    var server: ServerConfiguration
    var http: HTTPConfiguration?
    /// The certificate and key `--https` serves (loaded by the daemon and by `--check`).
    var tls: (certificate: String, key: String)?
    /// `--machines`: the file, and its profiles at work (shared by TFTP, HTTP, the proxy and
    /// the status page).
    var machines: (file: String, service: MachineService)?
    /// `--origin` and its cache (docs/fleet.md), the CA its certificate is checked with (also
    /// for a `--machines` URL), and what the origin's access log sees of this server.
    var origin: OriginConfiguration?
    var originCA: String?
    var originUserAgent: String
    /// `--map-file`, read again while tftpd runs.
    var mapFile: String?
    /// The versions of the files read after start and the root in use (status page).
    let versions = ConfigVersions()
    var proxyDHCP: ProxyDHCPConfiguration?
    var metrics: ListenAddress?
    var status: ListenAddress?
    var logLevel: Logger.Level
    var logFormat: LogLineFormat
    var contentPolicy: ContentRoot.Policy { server.contentPolicy }

    init(
        content: ContentOptions, listen: ListenOptions, transfer: TransferOptions, http: HTTPOptions,
        proxy: ProxyDHCPOptions, operator: OperatorOptions, origin: OriginOptions? = nil,
        inheritedSockets: [CInt], coreCount: Int,
        remap: RemapRules? = nil, machines: (file: String, book: MachineBook)? = nil
    ) {
        let service = machines.map { MachineService(book: $0.book) }
        self.machines = machines.flatMap { machines in service.map { (machines.file, $0) } }
        let gracePeriod = TimeAmount.seconds(Int64(transfer.gracePeriod))
        let filenameMap = content.filenameMap(remap: remap)
        self.mapFile = content.mapFile
        self.status = `operator`.statusAddress
        self.metrics = `operator`.metricsAddress
        self.logLevel = `operator`.level
        self.logFormat = `operator`.format
        self.server = ServerConfiguration(
            root: content.root,
            listen: listen.addresses(inheritedSockets: inheritedSockets.count),
            transfer: transfer.transfer,
            contentPolicy: content.policy,
            maxTransfers: transfer.maxTransfers,
            maxPerClient: transfer.maxPerClient,
            gracePeriod: gracePeriod,
            singlePort: listen.singlePort,
            portRange: listen.portRange.flatMap(ListenOptions.parsePortRange),
            filenameMap: filenameMap,
            nameResolver: content.nameResolver,
            fitBlockSizeToMTU: transfer.maxBlksize == nil,
            inheritedSockets: inheritedSockets,
            threads: listen.threads ?? coreCount,
            adaptiveThreads: listen.threads == nil,
            board: status == nil ? nil : TransferBoard(machines: service?.registry, versions: versions)
        )
        self.server.machines = service
        self.http = http.configuration(
            gracePeriod: gracePeriod, filenameMap: filenameMap, nameResolver: content.nameResolver)
        self.http?.machines = service
        self.tls = http.tlsFiles
        self.proxyDHCP = proxy.configuration(
            httpListen: self.http?.listen ?? [], httpsListen: self.http?.secureListen ?? [])
        self.proxyDHCP?.machines = service
        // The origin's access log tells the servers of a fleet apart by their first address.
        let first = self.server.listen.first.map { " (\($0))" } ?? ""
        self.originUserAgent = "netboot-tftpd\(first)"
        self.originCA = origin?.originCA
        self.origin = origin?.configuration(userAgent: originUserAgent)
    }

    /// Every address the daemon binds, in the order it binds them.
    var bindings: [Binding] {
        server.listen.map { Binding(flag: "--listen", address: $0, transport: .udp) }
            + (http?.listen ?? []).map { Binding(flag: "--http", address: $0, transport: .tcp) }
            + (http?.secureListen ?? []).map { Binding(flag: "--https", address: $0, transport: .tcp) }
            + (metrics.map { [Binding(flag: "--metrics", address: $0, transport: .tcp)] } ?? [])
            + (status.map { [Binding(flag: "--status", address: $0, transport: .tcp)] } ?? [])
    }

    /// The services that bind before the privilege drop (TFTP, HTTP, proxyDHCP, metrics,
    /// status).
    var listeningServices: Int {
        1 + (http == nil ? 0 : 1) + (proxyDHCP == nil ? 0 : 1) + (metrics == nil ? 0 : 1) + (status == nil ? 0 : 1)
    }
}
