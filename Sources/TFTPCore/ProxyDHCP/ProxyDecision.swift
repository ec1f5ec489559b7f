/// The proxyDHCP decision (PXE 2.1; the rules in docs/proxy-dhcp.md, "What the proxy
/// answers"), pure: a request, the port it came to, the boot plan and the interface's site
/// in; a reply or the reason for silence out. The driver decides nothing.
///
/// The offer carries no address (`yiaddr` 0) and no lease, so it cannot compete with the
/// network's DHCP server: PXE firmware takes its address from that server and its boot
/// instructions from the offer with vendor class `PXEClient` (HTTP boot: `HTTPClient`).
///
/// A proxy answers three things: a DISCOVER on port 67 (the offer), and a REQUEST or an
/// INFORM on port 4011 (the boot service). It never answers a request for a lease: every
/// REQUEST on port 67 is part of the client's exchange with the network's DHCP server, and
/// one carrying a requested address (option 50) asks for a lease wherever it is sent. That
/// holds whatever server identifier the REQUEST names — a proxy on the DHCP server's own host
/// and address is named too — because an ACK without an address that reaches EDK2 before the
/// DHCP server's makes it decline its lease ("Lease confirmed isn't the same as that in the
/// offer") and never boot. dnsmasq's proxy mode answers the same three and nothing else.
public enum ProxyDecision {
    public static func answer(
        _ request: DHCPMessage, on port: ProxyPort, plan: ProxyBootPlan, site: ProxySite
    ) -> Result<ProxyReply, ProxyIgnoreReason> {
        answer(request, on: port, site: site) { _ in plan }
    }

    /// The same, with the boot plan chosen per client (`--machines`: each machine's profile).
    public static func answer(
        _ request: DHCPMessage, on port: ProxyPort, site: ProxySite, plan planFor: (BootClient) -> ProxyBootPlan
    ) -> Result<ProxyReply, ProxyIgnoreReason> {
        guard request.operation == .request else { return .failure(.notARequest) }
        let client: BootClient
        do { client = try BootClient(request) } catch { return .failure(error) }
        let replyType: DHCPMessageType
        switch (port, request.messageType) {
        case (.dhcp, .discover):
            replyType = .offer
        case (.dhcp, .request):
            // SELECTING, INIT-REBOOT, RENEWING or REBINDING (RFC 2131 §4.3.2): a lease, the
            // network's DHCP server's to answer, whichever server it names.
            return .failure(.leaseRequest)
        case (.bootService, .request) where request.option(DHCPOption.requestedAddress) != nil:
            // A requested address sent to the boot service: a lease request, not ours.
            return .failure(.leaseRequest)
        case (.bootService, .request), (.bootService, .inform):
            replyType = .ack
        default:
            // INFORM on port 67 is the DHCP server's (it answers with the network's
            // parameters; an ACK from the proxy could win the race and carry none of them);
            // DECLINE and RELEASE concern leases.
            return .failure(.messageType)
        }
        let told: String
        switch target(for: client, plan: planFor(client), site: site) {
        case .success(let value): told = value
        case .failure(let reason): return .failure(reason)
        }

        var reply = DHCPMessage(
            operation: .reply, transactionID: request.transactionID,
            clientHardwareAddress: request.clientHardwareAddress)
        reply.hardwareType = request.hardwareType
        reply.flags = request.flags
        reply.relayAddress = request.relayAddress
        reply.clientAddress = port == .bootService ? request.clientAddress : .zero
        reply.serverAddress = site.address
        reply.serverName = site.address.description
        reply.bootFile = told.utf8.count <= 127 ? told : ""
        reply.options = [
            DHCPOption(DHCPOption.messageType, [replyType.rawValue]),
            DHCPOption(DHCPOption.serverIdentifier, site.address.bytes),
            DHCPOption(DHCPOption.vendorClass, text: client.firmware == .http ? "HTTPClient" : "PXEClient"),
        ]
        if let uuid = request.option(DHCPOption.clientMachineIdentifier) {
            // PXE 2.1: the server echoes the client's machine identifier.
            reply.options.append(DHCPOption(DHCPOption.clientMachineIdentifier, uuid))
        }
        if client.firmware == .pxe && client.architecture == .bios {
            // Option 43, PXE_DISCOVERY_CONTROL = 8: no boot server discovery, take the file
            // named here. BIOS PXE ROMs act on it; UEFI firmware is given no option 43 and
            // asks the boot service on port 4011 instead, which every UEFI PXE handles.
            reply.options.append(DHCPOption(DHCPOption.vendorSpecific, [6, 1, 8, DHCPOption.end]))
        }
        if client.firmware == .http || reply.bootFile.isEmpty {
            reply.options.append(DHCPOption(DHCPOption.bootFileName, text: told))
        }
        let destination: ProxyReply.Destination =
            switch port {
            case .bootService: .sender
            case .dhcp: request.relayAddress == .zero ? .broadcast : .relay(request.relayAddress)
            }
        return .success(ProxyReply(message: reply, destination: destination, client: client, told: told))
    }

    /// The boot file or URL for a client: iPXE's script when there is one, a URL for HTTP
    /// boot, else the architecture's boot file.
    static func target(for client: BootClient, plan: ProxyBootPlan, site: ProxySite) -> Result<
        String, ProxyIgnoreReason
    > {
        if client.firmware == .iPXE, let script = plan.iPXEScript {
            if ProxyBootPlan.isURL(script) { return .success(script) }
            guard let url = site.url(path: script) else { return .failure(.noHTTPListener) }
            return .success(url)
        }
        guard let file = plan.bootFile(for: client.architecture) else { return .failure(.noBootFile) }
        guard client.firmware == .http || client.architecture.bootsOverHTTP else { return .success(file) }
        if ProxyBootPlan.isURL(file) { return .success(file) }
        guard let url = site.url(path: file) else { return .failure(.noHTTPListener) }
        return .success(url)
    }
}
