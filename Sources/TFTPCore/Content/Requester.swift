/// Who asked for a name, as the name rules see it: tftp-hpa's `\i` and `\x` and its `4`/`6`
/// flags, and the per-client directory. An IPv4 client on a dual-stack socket
/// (`::ffff:192.0.2.7`) is an IPv4 client here.
public struct Requester: Sendable, Equatable {
    /// `192.0.2.7` or `2001:db8::7`.
    public var address: String
    /// The address in expanded upper-case hex: `C0000207`, `20010DB8000000000000000000000007`.
    public var hex: String
    public var isIPv6: Bool

    public init(address: String, hex: String, isIPv6: Bool) {
        self.address = address
        self.hex = hex
        self.isIPv6 = isIPv6
    }

    /// For callers that have no client (tests, the planner without one).
    public static let unknown = Requester(address: "", hex: "", isIPv6: false)
}
