import NIOCore

extension SocketAddress {
    /// `192.0.2.7:1234` or `[2001:db8::7]:1234`, for logs (NIO's description is verbose).
    public var display: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
