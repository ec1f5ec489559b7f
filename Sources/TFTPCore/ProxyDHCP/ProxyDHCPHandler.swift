import Logging
import NIOCore

/// The thin driver of one proxy socket: datagram in, ``ProxyDecision`` asked, its reply
/// sent where it says, a log line and the metrics. No decision is made here.
final class ProxyDHCPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let port: ProxyPort
    private let plan: ProxyBootPlan
    private let site: ProxySite
    private let interface: String
    private let logger: Logger
    private let metrics: ServerMetrics
    /// `--machines`: the boot plan per machine, and what the server learns of each.
    private let machines: MachineService?

    init(
        port: ProxyPort, plan: ProxyBootPlan, site: ProxySite, interface: String, logger: Logger,
        metrics: ServerMetrics, machines: MachineService? = nil
    ) {
        self.machines = machines
        self.port = port
        self.plan = plan
        self.site = site
        self.interface = interface
        self.logger = logger
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let request: DHCPMessage
        do {
            request = try DHCPMessage.decode(envelope.data.readableBytesView)
        } catch {
            ignore(.malformed, from: envelope.remoteAddress, detail: "\(error)")
            return
        }
        let sender = envelope.remoteAddress.ipAddress.flatMap { IPv4Address($0) }
        var machine: MachineIdentity?
        var profile: String?
        let decision = ProxyDecision.answer(request, on: port, site: site) { client in
            guard let machines else { return plan }
            let identity = MachineIdentity(
                request: request, client: client, sender: port == .bootService ? sender : nil)
            let chosen = machines.plan(for: identity, fallback: plan)
            machine = identity
            profile = chosen.profile
            return chosen.plan
        }
        switch decision {
        case .failure(let reason):
            ignore(reason, from: envelope.remoteAddress, detail: nil)
        case .success(let reply):
            let destination: SocketAddress
            do {
                switch reply.destination {
                case .broadcast: destination = try SocketAddress(ipAddress: "255.255.255.255", port: 68)
                case .relay(let relay): destination = try SocketAddress(ipAddress: "\(relay)", port: 67)
                case .sender: destination = envelope.remoteAddress
                }
            } catch {
                return
            }
            let bytes = context.channel.allocator.buffer(bytes: reply.message.encode())
            context.writeAndFlush(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: destination, data: bytes)), promise: nil)
            metrics.proxy.replied(reply.client)
            let kind = reply.message.messageType == .offer ? "offer" : "ack"
            var metadata: Logger.Metadata = [
                "interface": "\(interface)", "port": "\(port.rawValue)",
                "mac": "\(reply.client.hardwareAddressText)",
                "architecture": "\(reply.client.architecture.rawValue)",
                "firmware": "\(reply.client.firmware.rawValue)", "boot": "\(reply.told)",
                "next_server": "\(site.address)",
            ]
            if let profile { metadata["profile"] = "\(profile)" }
            logger.info("proxy \(kind)", metadata: metadata)
            if let machines, let machine {
                machines.registry.learned(
                    machine, profile: profile, event: MachineEvent(reply, port: port, at: machines.registry.clock()))
            }
        }
    }

    private func ignore(_ reason: ProxyIgnoreReason, from sender: SocketAddress, detail: String?) {
        metrics.proxy.ignored(reason)
        var metadata: Logger.Metadata = [
            "interface": "\(interface)", "port": "\(port.rawValue)", "from": "\(sender.ipAddress ?? "?")",
            "reason": "\(reason.rawValue)",
        ]
        if let detail { metadata["detail"] = "\(detail)" }
        logger.debug("proxy ignored", metadata: metadata)
    }
}
