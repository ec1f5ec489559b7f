/// An `ADDR:PORT` given on the command line: `127.0.0.1:6969`, `[::1]:69`, `0.0.0.0:69`,
/// `[::]:69`, or `:6969` / `6969` for every address (the dual-stack `::`).
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses the forms above; nil when it is none of them or the port is not 0...65535.
    public init?(parsing text: String, defaultPort: Int? = nil) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else { return nil }  // bare IPv6 needs brackets
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else if text.allSatisfy(\.isNumber) {
            host = ""
            portText = Substring(text)
        } else {
            host = Substring(text)
            portText = nil
        }
        guard let port = portText.flatMap({ Int($0) }) ?? defaultPort, (0...65535).contains(port) else { return nil }
        self.host = host.isEmpty ? "::" : String(host)
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
