import NIOConcurrencyHelpers
import NIOCore

/// Admission shared by the engine threads: one ``TransferTable`` behind a lock (the limits
/// are per server and per client address, and a client's ports may land on different
/// threads), touched twice per transfer, never per packet. It also knows when a shutting
/// down server has become idle and then tells every thread to stop.
///
/// NIO's pthread-based lock rather than `Synchronization.Mutex`, whose futex
/// ThreadSanitizer does not see as synchronization.
final class TransferRegistry: Sendable {
    typealias Admission = TransferTable<PeerAddress, PeerAddress>.Admission

    private let table: NIOLockedValueBox<TransferTable<PeerAddress, PeerAddress>>
    private let metrics: ServerMetrics
    private let mailboxes: [EngineMailbox]

    init(maxTransfers: Int, maxPerClient: Int, metrics: ServerMetrics, mailboxes: [EngineMailbox]) {
        table = NIOLockedValueBox(TransferTable(maxTransfers: maxTransfers, maxPerHost: maxPerClient))
        self.metrics = metrics
        self.mailboxes = mailboxes
    }

    /// A request from `client` on engine thread `thread`: admitted (counted as started), one
    /// for the thread that runs the client's transfer, or refused. A suspended transfer that
    /// resumes takes its slot again the same way (not counted as another start).
    func admit(_ client: PeerAddress, as kind: AdmissionKind, thread: Int) -> Admission {
        let admission = table.withLockedValue {
            $0.admit(client, host: client.host, beside: kind != .new, thread: thread)
        }
        if case .admitted = admission {
            if kind == .resuming { metrics.tftp.transferResumed() } else { metrics.tftp.transferStarted() }
        }
        return admission
    }

    /// The transfer of `client` ended: its slot is free. The last one of a shutdown stops
    /// the threads.
    func release(_ client: PeerAddress) {
        let idle = table.withLockedValue { $0.release(client, host: client.host) }
        metrics.tftp.transferEnded()
        if idle { stopAll() }
    }

    /// Hands `request` of `client`, received on the listener bound to `local`, to engine
    /// thread `thread`, which runs the client's transfer
    /// (``TransferTable/Admission/duplicate(thread:)``).
    func handOver(_ request: Request, client: PeerAddress, local: PeerAddress, to thread: Int) {
        guard thread >= 0, thread < mailboxes.count else { return }
        mailboxes[thread].post(.request(request, client: client, local: local))
    }

    /// Transfers running now, on every thread.
    var running: Int { table.withLockedValue { $0.count } }

    /// Refuses new requests from now on; running transfers get `grace` to finish.
    /// Returns how many were running.
    @discardableResult
    func beginShutdown(grace: TimeAmount) -> Int {
        let (idle, running) = table.withLockedValue { ($0.beginShutdown(), $0.count) }
        if idle {
            stopAll()
        } else {
            for mailbox in mailboxes { mailbox.post(.beginShutdown(grace: grace)) }
        }
        return running
    }

    /// Refuses new requests and ends every running transfer now.
    func abort() {
        let idle = table.withLockedValue { $0.beginShutdown() }
        if idle {
            stopAll()
        } else {
            for mailbox in mailboxes { mailbox.post(.abort) }
        }
    }

    private func stopAll() {
        for mailbox in mailboxes { mailbox.post(.stop) }
    }
}

extension TransferRegistry: TransferAdmission {}
