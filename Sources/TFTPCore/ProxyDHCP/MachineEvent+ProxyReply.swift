extension MachineEvent {
    /// The proxy's answer on its machine's timeline: offer or ACK, the port, and what the
    /// firmware was told. An answer sent is a step done.
    init(_ reply: ProxyReply, port: ProxyPort, at time: Int64) {
        let kind = reply.message.messageType == .offer ? "offer" : "ack"
        self.init(
            at: time, kind: .dhcp, subject: "\(kind) (port \(port.rawValue))",
            result: "\(reply.client.firmware.rawValue): \(reply.told)", verdict: .succeeded)
    }
}
