import CTFTPShims
import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// How other threads reach an engine thread: commands in a locked queue and an eventfd in
/// the thread's epoll set that wakes it. The only thing on an engine thread that another
/// thread touches, and on the per-packet path only for a request handed over from another
/// thread, which is rare (the engine moved between one thread and all while it ran).
final class EngineMailbox: Sendable {
    enum Command: Equatable, Sendable {
        /// Graceful shutdown: running transfers may go on for `grace`, then end with an ERROR.
        case beginShutdown(grace: TimeAmount)
        /// End every running transfer now with an ERROR to its client.
        case abort
        /// The server is idle after a shutdown: close the listeners and end the thread.
        case stop
        /// A read handed to the ``BlockingReadPool`` for the transfer in `slot` (of that
        /// `generation`) is done: the frames are in its buffer, or `failure` says why not.
        case readCompleted(slot: Int, generation: UInt32, failure: ContentError?)
        /// Report the running transfers (for the status page) to `collector`.
        case reportActive(ActiveTransferCollector)
        /// A file arriving from the origin changed (its size is known, more bytes landed, it
        /// is complete or failed): the thread looks at what waits on such files.
        case arrived
        /// A request that reached another thread's listener bound to `local`, from a client
        /// whose transfer runs on this thread: judged here
        /// (``EngineCore/handedOver(_:from:listener:now:into:)``).
        case request(Request, client: PeerAddress, local: PeerAddress)
    }

    /// The eventfd (non-blocking, counter mode) that makes the thread's `epoll_wait` return.
    let eventDescriptor: Int32
    private let queue = NIOLockedValueBox<(commands: [Command], closed: Bool)>(([], false))

    init() throws(UDPSocket.Failure) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw UDPSocket.Failure(operation: "eventfd", errno: errno) }
        eventDescriptor = fd
    }

    deinit {
        close(eventDescriptor)
    }

    /// Queues a command and wakes the thread. Once the thread has ended, a request for its
    /// running transfers is answered at once (with none); other commands have no effect.
    func post(_ command: Command) {
        let accepted = queue.withLockedValue { queue in
            guard !queue.closed else { return false }
            // One `arrived` waiting is enough: the thread looks at everything that waits.
            if command == .arrived, queue.commands.last == .arrived { return false }
            queue.commands.append(command)
            return true
        }
        guard accepted else {
            if case .reportActive(let collector) = command { collector.add([]) }
            return
        }
        _ = eventfd_write(eventDescriptor, 1)
    }

    /// The thread ends (sealed): nothing more is queued, and the requests still waiting are answered.
    func seal() {
        let left = queue.withLockedValue { queue in
            queue.closed = true
            defer { queue.commands.removeAll() }
            return queue.commands
        }
        for case .reportActive(let collector) in left { collector.add([]) }
    }

    /// Called by the thread when the eventfd is readable: the queued commands, in order.
    func take() -> [Command] {
        var value: eventfd_t = 0
        _ = eventfd_read(eventDescriptor, &value)
        return queue.withLockedValue { queue in
            defer { queue.commands.removeAll() }
            return queue.commands
        }
    }
}
