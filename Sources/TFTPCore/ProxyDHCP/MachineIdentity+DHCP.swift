extension MachineIdentity {
    /// What a boot client's DHCP request says of it: its hardware address, machine UUID
    /// (option 97), architecture, host name (option 12), and its address when it has one
    /// (`ciaddr`, or the sender of a boot service request on port 4011).
    public init(request: DHCPMessage, client: BootClient, sender: IPv4Address?) {
        self.init(
            mac: MACAddress(bytes: client.hardwareAddress),
            uuid: request.option(DHCPOption.clientMachineIdentifier).flatMap(Self.uuid(fromOption:)),
            architecture: client.architecture,
            address: request.clientAddress != .zero ? request.clientAddress : sender.flatMap { $0 == .zero ? nil : $0 },
            hostname: request.option(DHCPOption.hostName).map { String(decoding: $0, as: UTF8.self) })
    }
}
