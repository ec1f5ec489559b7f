import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The proxyDHCP service (`--proxy-dhcp IFACE`): on each interface, port 67 and the PXE
/// boot service on 4011, both bound before the privilege drop, answered by
/// ``ProxyDHCPHandler`` through ``ProxyDecision``. Low traffic (a few datagrams per boot),
/// so it runs on NIO's shared loops rather than the datagram engine.
public struct ProxyDHCPServer: Service {
    public let configuration: ProxyDHCPConfiguration
    private let logger: Logger
    private let metrics: ServerMetrics
    private let ports: (dhcp: UInt16, bootService: UInt16)
    private let onListening: @Sendable ([SocketAddress]) async throws -> Void

    /// `ports` other than 67 and 4011 are for tests only (clients use those two).
    public init(
        configuration: ProxyDHCPConfiguration, logger: Logger, metrics: ServerMetrics,
        ports: (dhcp: UInt16, bootService: UInt16) = (67, 4011),
        onListening: @escaping @Sendable ([SocketAddress]) async throws -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.ports = ports
        self.onListening = onListening
    }

    /// `--check`: opens and binds both sockets of an interface and closes them again; the
    /// interface's address, or why it cannot be served.
    public static func check(interface: String) -> Result<IPv4Address, ProxyInterfaceError> {
        do {
            let opened = try ProxyInterface.open(interface)
            close(opened.dhcpSocket)
            close(opened.bootServiceSocket)
            return .success(opened.address)
        } catch {
            return .failure(error)
        }
    }

    public func run() async throws {
        var interfaces: [ProxyInterface] = []
        do {
            for name in configuration.interfaces {
                interfaces.append(
                    try ProxyInterface.open(name, dhcpPort: ports.dhcp, bootServicePort: ports.bootService))
            }
        } catch {
            for interface in interfaces {
                close(interface.dhcpSocket)
                close(interface.bootServiceSocket)
            }
            throw error
        }
        var channels: [Channel] = []
        var adopted = Set<Int32>()
        do {
            for interface in interfaces {
                let site = configuration.site(for: interface.address)
                for (port, descriptor) in [
                    (ProxyPort.dhcp, interface.dhcpSocket), (.bootService, interface.bootServiceSocket),
                ] {
                    let name = interface.name
                    let handler: @Sendable () -> ProxyDHCPHandler = {
                        [plan = configuration.plan, machines = configuration.machines, logger, metrics] in
                        ProxyDHCPHandler(
                            port: port, plan: plan, site: site, interface: name, logger: logger,
                            metrics: metrics, machines: machines)
                    }
                    let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(handler())
                            }
                        }
                        .withBoundSocket(descriptor).get()
                    adopted.insert(descriptor)
                    channels.append(channel)
                }
                if !site.hasListener {
                    // What a client on the interface would be refused, said once at the start.
                    let metadata: Logger.Metadata = [
                        "interface": "\(interface.name)", "address": "\(interface.address)",
                    ]
                    if configuration.plan.needsHTTPListener {
                        logger.warning(
                            "--proxy-dhcp: no --http listener on the interface's address, but a boot file or the iPXE script is a name to fetch over HTTP: those clients get no answer",
                            metadata: metadata)
                    } else {
                        logger.info(
                            "--proxy-dhcp: no --http listener on the interface's address: UEFI HTTP boot clients get no answer",
                            metadata: metadata)
                    }
                }
                logger.info(
                    "proxyDHCP answering boot clients",
                    metadata: [
                        "interface": "\(interface.name)", "address": "\(interface.address)",
                        "ports": "\(ports.dhcp),\(ports.bootService)",
                        "http": "\(site.url(path: "") ?? "none")",
                    ])
            }
            try await onListening([])
        } catch {
            for channel in channels { try? await channel.close() }
            for interface in interfaces {
                for descriptor in [interface.dhcpSocket, interface.bootServiceSocket]
                where !adopted.contains(descriptor) {
                    close(descriptor)
                }
            }
            throw error
        }
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
    }
}
