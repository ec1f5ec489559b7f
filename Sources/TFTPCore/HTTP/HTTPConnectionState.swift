import NIOCore

/// One HTTP connection's life, pure: whether it reads and answers requests, whether an
/// answer keeps it open, when it closes, and what its timer means. Every event goes in with
/// the time and comes back as one ``Action`` for ``HTTPConnectionHandler`` to perform on NIO
/// (the shape of postgres-nio's `ConnectionStateMachine`). docs/http.md, "Connections".
///
/// - An answer keeps the connection only when the client wants it kept, nothing before it
///   ended the connection, and the server is not shutting down: its head then says so
///   (``HTTPHeadSerializer``), `Connection: close` otherwise, and nothing more is read.
/// - The connection closes once the last answer that ends it is written. Answers whose
///   writing is watched (a sendfile body, a last answer) are counted; the plain keep-alive
///   ones go out in order before any later one completes.
/// - A client that pipelines without reading its answers parks the connection: reading
///   stops until the socket takes answers again.
/// - Graceful shutdown (NIO's `ChannelShouldQuiesceEvent`): a connection with no watched
///   answer in flight and no request waiting closes once what is written is out; a busy one
///   answers what it has read (also requests that wait for the socket to take answers again)
///   with `Connection: close` and closes after its last answer.
/// - A head must arrive within the header timeout from its first byte (else 408 and the
///   end); a connection idle for the idle timeout with nothing in flight closes.
struct HTTPConnectionState {
    enum Phase: Equatable {
        /// Reading and answering requests.
        case serving
        /// Requests read wait for the socket to take answers again (reading stopped).
        case parked
        /// Shutting down: answers what it has read with `Connection: close`, then closes.
        case quiescing
        /// Shutting down while requests wait for the socket.
        case quiescingParked
        /// An answer that ends the connection is decided: nothing more is read or answered;
        /// it closes when the watched answers are written.
        case closing
        case closed
    }

    /// What the handler does after an event.
    enum Action: Equatable {
        case none
        /// Write the answer with this `Connection` decision; when `watched`, report its
        /// writing (``written(now:failed:)``): the connection may end after it.
        case answer(keepAlive: Bool, watched: Bool)
        /// Stop reading: the socket takes no more answers.
        case stopReading
        /// Read again and answer what waited, then ask ``settle()``.
        case resumeReading
        /// Check the timer at this deadline (a head just began, or the check found nothing).
        case schedule(NIODeadline)
        /// Answer 408 (the head did not arrive in time), then close.
        case refuseSlowHead
        /// Close once what is written is out.
        case closeAfterWrites
        /// Close now.
        case close
    }

    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private(set) var phase = Phase.serving
    /// Answers whose writing is watched and not yet done.
    private(set) var watched = 0
    private(set) var lastActivity: NIODeadline
    /// When the first byte of the head now arriving came.
    private(set) var headStarted: NIODeadline?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, now: NIODeadline) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        lastActivity = now
    }

    /// Whether requests are read and answered.
    var isOpen: Bool {
        switch phase {
        case .serving, .parked, .quiescing, .quiescingParked: true
        case .closing, .closed: false
        }
    }

    /// Bytes arrived.
    mutating func read(now: NIODeadline) -> Action {
        lastActivity = now
        return .none
    }

    /// After parsing what arrived: whether part of a head is waiting for the rest. A head
    /// that has just begun has a deadline nearer than the idle one the timer may wait for.
    mutating func parsed(headInProgress: Bool, now: NIODeadline) -> Action {
        guard headInProgress else {
            headStarted = nil
            return .none
        }
        guard headStarted == nil else { return .none }
        headStarted = now
        return .schedule(deadline(now: now))
    }

    /// A complete request is to be answered; `clientKeepsAlive` is what its version and
    /// `Connection` field ask for. The answer keeps the connection or is its last; the last
    /// is watched, and the connection closes after it.
    mutating func answering(clientKeepsAlive: Bool) -> Action {
        headStarted = nil
        let keepAlive = clientKeepsAlive && (phase == .serving || phase == .parked)
        if !keepAlive {
            phase = .closing
            watched += 1
        }
        return .answer(keepAlive: keepAlive, watched: !keepAlive)
    }

    /// A body of a keep-alive answer goes out with sendfile or in chunks: its writing is
    /// watched too.
    mutating func bodyWatched() -> Action {
        watched += 1
        return .none
    }

    /// The head is refused (400, 414, 431, 505) or came too slowly (408): its answer is the
    /// last.
    mutating func refused() -> Action {
        headStarted = nil
        phase = .closing
        watched += 1
        return .answer(keepAlive: false, watched: true)
    }

    /// A watched answer is written (or failed).
    mutating func written(now: NIODeadline, failed: Bool) -> Action {
        watched -= 1
        lastActivity = now
        guard phase != .closed else { return .none }
        if failed || (watched == 0 && (phase == .closing || phase == .quiescing)) {
            phase = .closed
            return .closeAfterWrites
        }
        return .none
    }

    /// The socket takes no more answers while requests wait.
    mutating func socketFull() -> Action {
        switch phase {
        case .serving: phase = .parked
        case .quiescing: phase = .quiescingParked
        default: return .none
        }
        return .stopReading
    }

    /// The socket takes answers again.
    mutating func socketWritable() -> Action {
        switch phase {
        case .parked: phase = .serving
        case .quiescingParked: phase = .quiescing
        default: return .none
        }
        return .resumeReading
    }

    /// After answering what waited: a shutting-down connection with nothing left in flight
    /// closes now.
    mutating func settle() -> Action {
        guard phase == .quiescing, watched == 0 else { return .none }
        phase = .closed
        return .closeAfterWrites
    }

    /// Graceful shutdown began: an idle connection closes once what is written is out; a
    /// busy one closes after its last answer.
    mutating func quiesce() -> Action {
        switch phase {
        case .serving:
            guard watched == 0 else {
                phase = .quiescing
                return .none
            }
            phase = .closed
            return .closeAfterWrites
        case .parked:
            phase = .quiescingParked
            return .none
        case .quiescing, .quiescingParked, .closing, .closed:
            return .none
        }
    }

    /// The channel closed or failed under the connection.
    mutating func closed() -> Action {
        phase = .closed
        return .none
    }

    /// When the timer should fire next: the head's deadline while one arrives, else the idle
    /// deadline (a body still going out pushes it on).
    func deadline(now: NIODeadline) -> NIODeadline {
        let due = headStarted.map { $0 + headerTimeout } ?? lastActivity + idleTimeout
        return due <= now ? now + idleTimeout : due
    }

    /// The timer fired.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard isOpen else { return .none }
        if let headStarted {
            if now >= headStarted + headerTimeout { return .refuseSlowHead }
        } else if watched == 0, now >= lastActivity + idleTimeout {
            phase = .closed
            return .close
        }
        return .schedule(deadline(now: now))
    }
}
