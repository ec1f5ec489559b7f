/// The `match` of a machine profile: each selector given must match (one of its values
/// does), and a profile without any selector matches every machine. docs/machines.md.
public struct MachineSelector: Hashable, Sendable {
    public var macs: [MACAddress] = []
    public var uuids: [String] = []
    public var architectures: [ClientArchitecture] = []
    public var ranges: [IPv4Range] = []
    /// Host names, compared without regard to case; a trailing `*` matches any rest.
    public var hostnames: [String] = []

    public init(
        macs: [MACAddress] = [], uuids: [String] = [], architectures: [ClientArchitecture] = [],
        ranges: [IPv4Range] = [], hostnames: [String] = []
    ) {
        self.macs = macs
        self.uuids = uuids.map { $0.lowercased() }
        self.architectures = architectures
        self.ranges = ranges
        self.hostnames = hostnames
    }

    /// Why a machine matches or not: one line per selector given, true when it held.
    public func check(_ machine: MachineIdentity) -> [(held: Bool, reason: String)] {
        var lines: [(Bool, String)] = []
        if !macs.isEmpty {
            let mac = machine.mac
            lines.append(
                mac.map { macs.contains($0) } == true
                    ? (true, "mac \(mac!) is listed") : (false, "mac \(mac.map { "\($0)" } ?? "unknown") is not listed")
            )
        }
        if !uuids.isEmpty {
            let uuid = machine.uuid?.lowercased()
            lines.append(
                uuid.map { uuids.contains($0) } == true
                    ? (true, "uuid \(uuid!) is listed") : (false, "uuid \(uuid ?? "unknown") is not listed"))
        }
        if !architectures.isEmpty {
            let architecture = machine.architecture
            lines.append(
                architecture.map { architectures.contains($0) } == true
                    ? (true, "arch \(architecture!.rawValue) is listed")
                    : (false, "arch \(architecture?.rawValue ?? "unknown") is not listed"))
        }
        if !ranges.isEmpty {
            let address = machine.address
            if let address, let range = ranges.first(where: { $0.contains(address) }) {
                lines.append((true, "ip \(address) is in \(range)"))
            } else {
                lines.append(
                    (
                        false,
                        "ip \(address.map { "\($0)" } ?? "unknown") is in none of \(ranges.map { "\($0)" }.joined(separator: ", "))"
                    ))
            }
        }
        if !hostnames.isEmpty {
            let hostname = machine.hostname
            if let hostname, let pattern = hostnames.first(where: { Self.hostname(hostname, matches: $0) }) {
                lines.append((true, "hostname \(hostname) matches \(pattern)"))
            } else {
                lines.append(
                    (false, "hostname \(hostname ?? "unknown") matches none of \(hostnames.joined(separator: ", "))"))
            }
        }
        return lines
    }

    public func matches(_ machine: MachineIdentity) -> Bool {
        check(machine).allSatisfy(\.held)
    }

    static func hostname(_ name: String, matches pattern: String) -> Bool {
        let name = name.lowercased()
        let pattern = pattern.lowercased()
        if pattern.hasSuffix("*") { return name.hasPrefix(pattern.dropLast()) }
        return name == pattern
    }

    /// How narrowly a selector points at machines, for "the most specific match wins": a
    /// hardware address or UUID names one machine, then a host name, then the narrowest
    /// address range, then an architecture, then the number of selectors.
    public struct Specificity: Comparable, Hashable, Sendable {
        var namesOne: Bool
        var hostname: Bool
        var prefixLength: Int
        var architecture: Bool
        var selectors: Int

        public static func < (a: Self, b: Self) -> Bool {
            (a.namesOne ? 1 : 0, a.hostname ? 1 : 0, a.prefixLength, a.architecture ? 1 : 0, a.selectors)
                < (b.namesOne ? 1 : 0, b.hostname ? 1 : 0, b.prefixLength, b.architecture ? 1 : 0, b.selectors)
        }
    }

    public var specificity: Specificity {
        Specificity(
            namesOne: !macs.isEmpty || !uuids.isEmpty, hostname: !hostnames.isEmpty,
            prefixLength: ranges.map(\.prefixLength).min() ?? -1, architecture: !architectures.isEmpty,
            selectors: [!macs.isEmpty, !uuids.isEmpty, !architectures.isEmpty, !ranges.isEmpty, !hostnames.isEmpty]
                .filter { $0 }.count)
    }
}
