import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The engine threads of one server and the admission they share. ``run()`` starts one
/// POSIX thread per ``EngineThread`` and returns when every one has stopped: after a
/// shutdown has drained (``beginShutdown(grace:)``) or been cut short (``abort()``).
final class DatagramEngine: Sendable {
    let registry: TransferRegistry
    private let threads: [EngineThread]
    private let state = NIOLockedValueBox<(running: Int, continuation: CheckedContinuation<Void, Never>?)>((0, nil))

    /// One thread per element of `listeners` (the listening sockets that thread reads).
    init(
        listeners: [[EngineListener]], settings: EngineSettings, maxTransfers: Int, maxPerClient: Int
    ) throws(UDPSocket.Failure) {
        var mailboxes: [EngineMailbox] = []
        for _ in listeners { mailboxes.append(try EngineMailbox()) }
        let registry = TransferRegistry(
            maxTransfers: maxTransfers, maxPerClient: maxPerClient, metrics: settings.metrics, mailboxes: mailboxes)
        var threads: [EngineThread] = []
        for (index, own) in listeners.enumerated() {
            threads.append(
                try EngineThread(listeners: own, settings: settings, registry: registry, mailbox: mailboxes[index]))
        }
        self.registry = registry
        self.threads = threads
    }

    /// Runs the threads until they stop.
    func run() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLockedValue { $0 = (threads.count, continuation) }
            if threads.isEmpty { return finished() }
            for thread in threads {
                Self.spawn(thread) { [self] in finished() }
            }
        }
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

    /// Starts a detached POSIX thread that runs `thread` and then `done`. The entry point
    /// is formed here, in a nonisolated function (a closure formed in top-level code would
    /// be main-actor isolated).
    private static func spawn(_ thread: EngineThread, done: @escaping @Sendable () -> Void) {
        final class Start {
            let thread: EngineThread
            let done: @Sendable () -> Void
            init(_ thread: EngineThread, _ done: @escaping @Sendable () -> Void) {
                self.thread = thread
                self.done = done
            }
        }
        let start = Unmanaged.passRetained(Start(thread, done)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
                start.thread.run()
                start.done()
                return nil
            }, start)
        if result != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            done()
        } else {
            pthread_detach(handle)
        }
    }
}
