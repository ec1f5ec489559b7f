import ArgumentParser
import TFTPCore

/// Where TFTP listens and how its sockets are laid out.
struct ListenOptions: ParsableArguments {
    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Address and port to listen on; repeatable. Forms: 0.0.0.0:69, [::1]:6969, :69 (all addresses, IPv4 and IPv6). Default :69, or none when systemd passes sockets.",
            valueName: "addr:port"
        )
    )
    var listen: [String] = []

    @Option(
        help: ArgumentHelp(
            "TFTP engine threads, each with its own socket per listen address; all of them take requests. Default: one per core, the others taking requests only while the first is saturated and a core is free.",
            valueName: "n"
        )
    )
    var threads: Int?

    @Option(
        help: ArgumentHelp(
            "Transfer sockets take ports from this range only, e.g. 50000:50999 for a firewall rule; a request finding none free gets an ERROR.",
            valueName: "low:high"
        )
    )
    var portRange: String?

    @Flag(
        help:
            "Serve every transfer from the listening port (for NAT and strict firewalls), told apart by the client's address and port."
    )
    var singlePort = false

    func validate() throws {
        for text in listen where ListenAddress(parsing: text) == nil {
            throw ValidationError("--listen \(text): expected ADDR:PORT, e.g. 0.0.0.0:69 or [::1]:6969")
        }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be 1...1024") }
        if let portRange {
            guard Self.parsePortRange(portRange) != nil else {
                throw ValidationError("--port-range \(portRange): expected LOW:HIGH with 1 <= LOW <= HIGH <= 65535")
            }
            guard !singlePort else { throw ValidationError("--port-range and --single-port exclude each other") }
        }
    }

    /// `LOW:HIGH` with 1 ≤ LOW ≤ HIGH ≤ 65535.
    static func parsePortRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1 <= low, low <= high,
            high <= 65535
        else { return nil }
        return low...high
    }

    /// The addresses to bind: the flags, or `:69` when none are given and systemd passed
    /// no socket.
    func addresses(inheritedSockets: Int) -> [ListenAddress] {
        listen.isEmpty && inheritedSockets == 0
            ? [ListenAddress(host: "::", port: 69)] : listen.compactMap { ListenAddress(parsing: $0) }
    }
}
