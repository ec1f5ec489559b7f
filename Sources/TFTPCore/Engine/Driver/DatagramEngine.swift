import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// The engine threads of one server, the admission they share and the readers they hand
/// slow reads to. ``run()`` starts one POSIX thread per ``EngineThread`` and returns when
/// every one has stopped: after a shutdown has drained (``beginShutdown(grace:)``) or been
/// cut short (``abort()``).
final class DatagramEngine: Sendable {
    let registry: TransferRegistry
    /// How busy each thread is, and where new requests go.
    let load: EngineLoad
    private let mailboxes: [EngineMailbox]
    private let threads: [EngineThread]
    private let reads: BlockingReadPool
    private let state = NIOLockedValueBox<(running: Int, continuation: CheckedContinuation<Void, Never>?)>((0, nil))

    /// One thread per element of `listeners` (the listening sockets that thread reads).
    /// `steered`: the first thread's socket of each SO_REUSEPORT group; with `adaptive` the
    /// engine sends new requests to the first thread until it is busy (``EngineLoad``).
    init(
        listeners: [[EngineListener]], settings: EngineSettings, maxTransfers: Int, maxPerClient: Int,
        adaptive: Bool = false, steered: [Int32] = []
    ) throws(UDPSocket.Failure) {
        var mailboxes: [EngineMailbox] = []
        for _ in listeners { mailboxes.append(try EngineMailbox()) }
        let registry = TransferRegistry(
            maxTransfers: maxTransfers, maxPerClient: maxPerClient, metrics: settings.metrics, mailboxes: mailboxes)
        let reads = BlockingReadPool(threads: 4)
        let load = EngineLoad(
            threads: listeners.count, adaptive: adaptive, steered: steered, now: NIODeadline.now().uptimeNanoseconds)
        var threads: [EngineThread] = []
        do {
            for (index, own) in listeners.enumerated() {
                threads.append(
                    try EngineThread(
                        index: index, listeners: own, settings: settings, registry: registry,
                        mailbox: mailboxes[index], reads: reads, load: load, threads: listeners.count)
                )
            }
        } catch {
            reads.stop()
            throw error
        }
        self.registry = registry
        self.load = load
        self.mailboxes = mailboxes
        self.threads = threads
        self.reads = reads
    }

    /// Runs the threads until they stop.
    func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLockedValue { $0 = (threads.count, continuation) }
            if threads.isEmpty { return finished() }
            for (index, thread) in threads.enumerated() {
                let started = PosixThread.spawn(name: "tftpd-engine-\(index)") { [self] in
                    thread.run()
                    finished()
                }
                if !started { finished() }
            }
        }
        reads.stop()
    }

    /// The transfers running now on every thread, each thread asked through its mailbox
    /// (the status page; nothing on the per-packet path).
    func activeTransfers() async -> [StatusSnapshot.Active] {
        await withCheckedContinuation { continuation in
            let collector = ActiveTransferCollector(expected: mailboxes.count, continuation: continuation)
            for mailbox in mailboxes { mailbox.post(.reportActive(collector)) }
        }
    }

    /// Lets go of an engine that will not run (the start failed): its readers end.
    func discard() {
        reads.stop()
    }

    /// Graceful shutdown: new requests are refused, running transfers get `grace`.
    /// Returns how many were running.
    @discardableResult
    func beginShutdown(grace: TimeAmount) -> Int {
        registry.beginShutdown(grace: grace)
    }

    /// Ends every running transfer now (each client gets an ERROR), then stops.
    func abort() {
        registry.abort()
    }

    private func finished() {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.running -= 1
            guard state.running <= 0 else { return nil }
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
