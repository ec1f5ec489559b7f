import CoreMetrics

/// The TFTP service's counters and histograms (swift-metrics: no-ops until the daemon
/// bootstraps a backend). Every label is a closed type's raw value (``OutcomeLabel``,
/// ``RefusalReason``), made once at start, so a transfer costs a few atomic adds. Names follow
/// Prometheus conventions (`_total` for counters, seconds for durations); docs/operations.md,
/// "Metrics", lists them.
public final class TFTPMetrics: Sendable {
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
}
