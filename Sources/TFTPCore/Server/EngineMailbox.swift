import CTFTPShims
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How other threads reach an engine thread: commands in a locked queue and an eventfd in
/// the thread's epoll set that wakes it. The only thing on an engine thread that another
/// thread touches, and never on the per-packet path.
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
    }

    /// The eventfd (non-blocking, counter mode) that makes the thread's `epoll_wait` return.
    let eventDescriptor: Int32
    private let queue = NIOLockedValueBox<[Command]>([])

    init() throws(UDPSocket.Failure) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw UDPSocket.Failure(operation: "eventfd", errno: errno) }
        eventDescriptor = fd
    }

    deinit {
        close(eventDescriptor)
    }

    /// Queues a command and wakes the thread.
    func post(_ command: Command) {
        queue.withLockedValue { $0.append(command) }
        _ = eventfd_write(eventDescriptor, 1)
    }

    /// Called by the thread when the eventfd is readable: the queued commands, in order.
    func take() -> [Command] {
        var value: eventfd_t = 0
        _ = eventfd_read(eventDescriptor, &value)
        return queue.withLockedValue { commands in
            defer { commands.removeAll() }
            return commands
        }
    }
}
