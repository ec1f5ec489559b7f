import NIOCore

/// One HTTP connection's life, pure: whether it reads and answers requests, whether an
/// answer keeps it open, when it closes, and what its timer means. Events go in with the
/// time (bytes read, a head in progress, a request answered, an answer written, shutdown, the
/// timer) and decisions come out; ``HTTPConnectionHandler`` does the reading, writing and
/// scheduling on NIO. docs/http.md, "Connections".
///
/// - An answer keeps the connection only when the client wants it kept, nothing before it
///   ended the connection, and the server is not shutting down: its head then says so
///   (``HTTPHeadSerializer``), `Connection: close` otherwise, and nothing more is read.
/// - The connection closes once the last answer that ends it is written. Answers whose
///   writing is watched (a sendfile body, a last answer) are counted; the plain keep-alive
///   ones go out in order before any later one completes.
/// - Graceful shutdown (NIO's `ChannelShouldQuiesceEvent`): a connection with no watched
///   answer in flight and no request waiting closes once what is written is out; a busy one
///   answers what it has read (also requests that wait for the socket to take answers again)
///   with `Connection: close` and closes after its last answer.
/// - A head must arrive within the header timeout from its first byte (else 408 and the
///   end); a connection idle for the idle timeout with nothing in flight closes.
struct HTTPConnectionState {
    enum Phase: Equatable {
        /// Reading and answering requests.
        case open
        /// An answer that ends the connection is decided: nothing more is read or answered;
        /// it closes when the watched answers are written.
        case closing
        case closed
    }

    /// What the timer means when it fires.
    enum Check: Equatable {
        /// The head did not arrive in time: answer 408, then close.
        case headTimedOut
        /// Idle for too long: close.
        case close
        /// Nothing yet: check again then.
        case again(NIODeadline)
        /// The connection is ending anyway.
        case nothing
    }

    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private(set) var phase = Phase.open
    private(set) var quiescing = false
    /// Answers whose writing is watched and not yet done.
    private(set) var watched = 0
    private(set) var lastActivity: NIODeadline
    /// When the first byte of the head now arriving came.
    private(set) var headStarted: NIODeadline?
    /// Requests read wait for the socket to take answers again.
    private(set) var parked = false

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, now: NIODeadline) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        lastActivity = now
    }

    /// Whether requests are read and answered.
    var isOpen: Bool { phase == .open }

    /// Bytes arrived.
    mutating func read(now: NIODeadline) {
        lastActivity = now
    }

    /// After parsing what arrived: whether part of a head is waiting for the rest. Returns
    /// true when a head has just begun, so its deadline may be nearer than the one the timer
    /// waits for.
    mutating func headInProgress(_ inProgress: Bool, now: NIODeadline) -> Bool {
        guard inProgress else {
            headStarted = nil
            return false
        }
        guard headStarted == nil else { return false }
        headStarted = now
        return true
    }

    /// A complete request is answered; `clientKeepsAlive` is what its version and
    /// `Connection` field ask for. Returns whether this answer keeps the connection, which
    /// its head says, and whether it is the last: then it is watched (the handler reports
    /// when it is written), and the connection closes after it.
    mutating func answer(clientKeepsAlive: Bool) -> (keepAlive: Bool, last: Bool) {
        headStarted = nil
        let keepAlive = clientKeepsAlive && !quiescing && phase == .open
        if !keepAlive {
            phase = .closing
            watched += 1
        }
        return (keepAlive, !keepAlive)
    }

    /// An answer whose writing the handler watches (a sendfile body of a keep-alive answer).
    mutating func watch() {
        watched += 1
    }

    /// The last answer is a refusal of the head (400, 408, 414, 431, 505): the connection ends
    /// after it.
    mutating func refuse() {
        headStarted = nil
        phase = .closing
        watched += 1
    }

    /// A watched answer is written (or failed); returns whether the connection closes now.
    mutating func written(now: NIODeadline, failed: Bool) -> Bool {
        watched -= 1
        lastActivity = now
        guard phase != .closed else { return false }
        if failed || (watched == 0 && !parked && (phase == .closing || quiescing)) {
            phase = .closed
            return true
        }
        return false
    }

    /// Requests read wait until the socket takes answers again (a client that pipelines
    /// without reading).
    mutating func park() {
        parked = true
    }

    /// The socket takes answers again; the handler answers what waited, then asks
    /// ``settle()``.
    mutating func unpark() {
        parked = false
    }

    /// After answering what waited: whether the connection closes now (shutting down, and
    /// nothing left in flight or waiting).
    mutating func settle() -> Bool {
        guard phase == .open, quiescing, watched == 0, !parked else { return false }
        phase = .closed
        return true
    }

    /// Graceful shutdown began. Returns true when the connection should close once what is
    /// already written is out (nothing watched is in flight, no request waits); otherwise its
    /// last answer closes it.
    mutating func quiesce() -> Bool {
        quiescing = true
        guard phase != .closed, watched == 0, !parked else { return false }
        phase = .closed
        return true
    }

    /// The channel closed or failed under the connection.
    mutating func closed() {
        phase = .closed
    }

    /// When the timer should fire next: the head's deadline while one arrives, else the idle
    /// deadline (a body still going out pushes it on).
    func deadline(now: NIODeadline) -> NIODeadline {
        let due = headStarted.map { $0 + headerTimeout } ?? lastActivity + idleTimeout
        return due <= now ? now + idleTimeout : due
    }

    /// The timer fired.
    mutating func check(now: NIODeadline) -> Check {
        guard phase == .open else { return .nothing }
        if let headStarted {
            if now >= headStarted + headerTimeout { return .headTimedOut }
        } else if watched == 0, now >= lastActivity + idleTimeout {
            phase = .closed
            return .close
        }
        return .again(deadline(now: now))
    }
}
