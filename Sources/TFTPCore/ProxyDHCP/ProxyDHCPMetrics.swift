import CoreMetrics

/// The proxyDHCP service's counters: replies by the client's architecture and firmware,
/// silence by its reason (``ProxyIgnoreReason``), every label a closed type's, made at start.
public final class ProxyDHCPMetrics: Sendable {
    private let replies: [ClientArchitecture: [BootClient.Firmware: Counter]]
    private let ignored: [ProxyIgnoreReason: Counter]

    public init() {
        var replies: [ClientArchitecture: [BootClient.Firmware: Counter]] = [:]
        for architecture in ClientArchitecture.allCases {
            for firmware in BootClient.Firmware.allCases {
                replies[architecture, default: [:]][firmware] = Counter(
                    label: "proxy_dhcp_replies_total",
                    dimensions: [("architecture", architecture.rawValue), ("firmware", firmware.rawValue)])
            }
        }
        self.replies = replies
        var ignored: [ProxyIgnoreReason: Counter] = [:]
        for reason in ProxyIgnoreReason.allCases {
            ignored[reason] = Counter(label: "proxy_dhcp_ignored_total", dimensions: [("reason", reason.rawValue)])
        }
        self.ignored = ignored
    }

    /// The proxy answered a boot client (an offer on port 67 or an ACK on 4011).
    func replied(_ client: BootClient) {
        replies[client.architecture]?[client.firmware]?.increment()
    }

    /// The proxy stayed silent on a datagram.
    func ignored(_ reason: ProxyIgnoreReason) {
        ignored[reason]?.increment()
    }
}
