import CoreMetrics
import NIOConcurrencyHelpers

/// The server's counters and histograms through swift-metrics: no-ops until the daemon
/// bootstraps a backend (`--metrics` bootstraps Prometheus). Created once and shared, so
/// the per-transfer cost is a few atomic adds, not a factory lookup.
///
/// Names follow Prometheus conventions (`_total` for counters, seconds for durations).
public final class ServerMetrics: Sendable {
    private let started = Counter(label: "tftp_transfers_started_total")
    private let completed = Counter(label: "tftp_transfers_completed_total")
    private let probes = Counter(label: "tftp_size_probes_total")
    private let failed: [OutcomeLabel: Counter]
    private let rejected: [RefusalReason: Counter]
    private let bytes = Counter(label: "tftp_bytes_sent_total")
    private let retransmits = Counter(label: "tftp_retransmits_total")
    private let duration = Timer(label: "tftp_transfer_duration_seconds")
    private let active = Meter(label: "tftp_active_transfers")
    private let sendBufferWaits = Counter(label: "tftp_send_buffer_full_total")
    private let coldReads = Counter(label: "tftp_cold_reads_total")
    private let listenerDrops = Counter(label: "tftp_listener_drops_total")
    private let httpRequests = NIOLockedValueBox<[UInt: Counter]>([:])
    private let httpBytes = Counter(label: "http_body_bytes_sent_total")
    private let tlsFailures = NIOLockedValueBox<[String: Counter]>([:])
    private let proxyReplies: [ClientArchitecture: [BootClient.Firmware: Counter]]
    private let proxyIgnored: [ProxyIgnoreReason: Counter]
    private let configReloads = NIOLockedValueBox<[String: (ok: Counter, failed: Counter)]>([:])
    private let rootSwitches = Counter(label: "tftpd_root_switches_total")

    public init() {
        var failed: [OutcomeLabel: Counter] = [:]
        for reason in OutcomeLabel.failures {
            failed[reason] = Counter(label: "tftp_transfers_failed_total", dimensions: [("reason", reason.rawValue)])
        }
        self.failed = failed
        var rejected: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            rejected[reason] = Counter(label: "tftp_requests_rejected_total", dimensions: [("reason", reason.rawValue)])
        }
        self.rejected = rejected
        var proxyReplies: [ClientArchitecture: [BootClient.Firmware: Counter]] = [:]
        for architecture in ClientArchitecture.allCases {
            for firmware in BootClient.Firmware.allCases {
                proxyReplies[architecture, default: [:]][firmware] = Counter(
                    label: "proxy_dhcp_replies_total",
                    dimensions: [("architecture", architecture.rawValue), ("firmware", firmware.rawValue)])
            }
        }
        self.proxyReplies = proxyReplies
        var proxyIgnored: [ProxyIgnoreReason: Counter] = [:]
        for reason in ProxyIgnoreReason.allCases {
            proxyIgnored[reason] = Counter(label: "proxy_dhcp_ignored_total", dimensions: [("reason", reason.rawValue)])
        }
        self.proxyIgnored = proxyIgnored
    }

    /// The proxy answered a boot client (an offer on port 67 or an ACK on 4011).
    func proxyReplied(_ client: BootClient) {
        proxyReplies[client.architecture]?[client.firmware]?.increment()
    }

    /// The proxy stayed silent on a datagram.
    func proxyIgnored(_ reason: ProxyIgnoreReason) {
        proxyIgnored[reason]?.increment()
    }

    /// A request became a transfer.
    func transferStarted() {
        started.increment()
        active.increment()
    }

    /// A request was answered by the listener without a transfer.
    func requestRejected(_ reason: RefusalReason) {
        rejected[reason]?.increment()
    }

    /// A transfer found its socket's send buffer full (EAGAIN) and waits for room: the link
    /// or the host's queue is slower than the windows going out.
    func sendBufferFull() {
        sendBufferWaits.increment()
    }

    /// A read missed the page cache and went to a reader thread (the disk is being read).
    func coldRead() {
        coldReads.increment()
    }

    /// A suspended transfer took a slot again (a late ACK, or its request repeated).
    func transferResumed() {
        active.increment()
    }

    /// The kernel dropped datagrams at a listening socket (its receive buffer was full).
    func listenerDropped(_ count: Int) {
        listenerDrops.increment(by: count)
    }

    /// The transfer's slot is free again (whatever happened to it).
    func transferEnded() {
        active.decrement()
    }

    /// A transfer's outcome, bytes and time.
    func record(_ outcome: ServerTransfer.Outcome, bytes sent: Int64, retransmits count: Int, nanoseconds: Int64) {
        switch outcome {
        case .completed: completed.increment()
        case .sizeProbe: probes.increment()
        default: failed[outcome.label]?.increment()
        }
        if sent > 0 { bytes.increment(by: sent) }
        if count > 0 { retransmits.increment(by: count) }
        duration.recordNanoseconds(nanoseconds)
    }

    /// One HTTP response: its status and the body bytes it promised.
    func httpResponse(status: UInt, bodyBytes: Int64) {
        let counter = httpRequests.withLockedValue { counters in
            if let counter = counters[status] { return counter }
            let counter = Counter(label: "http_requests_total", dimensions: [("status", String(status))])
            counters[status] = counter
            return counter
        }
        counter.increment()
        if bodyBytes > 0 { httpBytes.increment(by: bodyBytes) }
    }

    /// A file tftpd reads after start (``ConfigWatcher``): its reload counters exist from the
    /// start, at 0.
    func registerConfigFile(_ file: String) {
        configReloads.withLockedValue { counters in
            guard counters[file] == nil else { return }
            counters[file] = (
                Counter(label: "tftpd_config_reloads_total", dimensions: [("file", file), ("result", "ok")]),
                Counter(label: "tftpd_config_reloads_total", dimensions: [("file", file), ("result", "failed")])
            )
        }
    }

    /// A reload of `file` succeeded or kept the version in use.
    func configReloaded(_ file: String, succeeded: Bool) {
        registerConfigFile(file)
        let counters = configReloads.withLockedValue { $0[file] }
        (succeeded ? counters?.ok : counters?.failed)?.increment()
    }

    /// The root's path led to another directory.
    public func rootSwitched() {
        rootSwitches.increment()
    }

    /// A TLS handshake on an HTTPS listener failed, for `reason` (a label of the TLS
    /// target's `TLSHandshakeFailure`).
    public func tlsHandshakeFailed(_ reason: String) {
        let counter = tlsFailures.withLockedValue { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: "http_tls_handshake_failures_total", dimensions: [("reason", reason)])
            counters[reason] = counter
            return counter
        }
        counter.increment()
    }
}
