import NIOCore
import Testing

@testable import TFTPCore

/// The life of one HTTP connection, rule by rule, with a virtual clock: every event and the
/// one action it asks of the handler.
@Suite struct HTTPConnectionStateTests {
    private static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func state() -> HTTPConnectionState {
        HTTPConnectionState(headerTimeout: .seconds(10), idleTimeout: .seconds(60), now: Self.start)
    }

    @Test func keepAliveAnswersKeepTheConnection() {
        var state = state()
        #expect(state.answering(clientKeepsAlive: true) == .answer(keepAlive: true, watched: false))
        #expect(state.isOpen)
        #expect(state.watched == 0)
    }

    /// The client's `Connection: close` (or HTTP/1.0 without keep-alive): the last answer,
    /// watched; nothing more is read; the connection closes when it is written.
    @Test func aClosingAnswerIsTheLast() {
        var state = state()
        #expect(state.answering(clientKeepsAlive: false) == .answer(keepAlive: false, watched: true))
        #expect(!state.isOpen)
        #expect(state.written(now: Self.start, failed: false) == .closeAfterWrites)
        #expect(state.phase == .closed)
    }

    /// Shutdown with nothing in flight: close once what is written is out.
    @Test func anIdleConnectionClosesOnShutdown() {
        var state = state()
        _ = state.answering(clientKeepsAlive: true)
        #expect(state.quiesce() == .closeAfterWrites)
        #expect(state.phase == .closed)
    }

    /// Shutdown while a body goes out: a request read after it is answered with
    /// `Connection: close`; the body's end does not close (an answer follows it); the last
    /// answer does.
    @Test func aBusyConnectionAnswersWithCloseDuringShutdown() {
        var state = state()
        #expect(state.answering(clientKeepsAlive: true) == .answer(keepAlive: true, watched: false))
        #expect(state.bodyWatched() == .none)
        #expect(state.quiesce() == .none)
        #expect(state.phase == .quiescing)
        #expect(state.isOpen)
        #expect(state.answering(clientKeepsAlive: true) == .answer(keepAlive: false, watched: true))
        #expect(!state.isOpen)
        #expect(state.written(now: Self.start, failed: false) == .none)
        #expect(state.written(now: Self.start, failed: false) == .closeAfterWrites)
        #expect(state.phase == .closed)
    }

    /// Shutdown while a body goes out and nothing else comes: the body's end closes.
    @Test func aBodyInFlightClosesTheConnectionAfterShutdown() {
        var state = state()
        _ = state.answering(clientKeepsAlive: true)
        _ = state.bodyWatched()
        #expect(state.quiesce() == .none)
        #expect(state.written(now: Self.start, failed: false) == .closeAfterWrites)
    }

    @Test func aFailedWriteCloses() {
        var state = state()
        _ = state.answering(clientKeepsAlive: true)
        _ = state.bodyWatched()
        #expect(state.written(now: Self.start, failed: true) == .closeAfterWrites)
        #expect(state.phase == .closed)
    }

    /// A refused head (400, 408, 414, 431, 505) is the last answer.
    @Test func aRefusalIsTheLast() {
        var state = state()
        #expect(state.parsed(headInProgress: true, now: Self.start) == .schedule(Self.start + .seconds(10)))
        #expect(state.refused() == .answer(keepAlive: false, watched: true))
        #expect(!state.isOpen)
        #expect(state.headStarted == nil)
        #expect(state.written(now: Self.start, failed: false) == .closeAfterWrites)
    }

    /// The header timer runs from a head's first byte; a head that began earlier keeps its
    /// start.
    @Test func aHeadMustArriveInTime() {
        var state = state()
        let later = Self.start + .seconds(30)
        #expect(state.parsed(headInProgress: true, now: later) == .schedule(later + .seconds(10)))
        #expect(state.parsed(headInProgress: true, now: later + .seconds(5)) == .none)
        #expect(state.deadline(now: later) == later + .seconds(10))
        #expect(state.timerFired(now: later + .seconds(9)) == .schedule(later + .seconds(10)))
        #expect(state.timerFired(now: later + .seconds(10)) == .refuseSlowHead)
    }

    /// Idle for the idle timeout: closed; a body going out is not idleness.
    @Test func anIdleConnectionTimesOutUnlessABodyGoesOut() {
        var state = state()
        #expect(state.timerFired(now: Self.start + .seconds(59)) == .schedule(Self.start + .seconds(60)))
        var busy = state
        _ = busy.answering(clientKeepsAlive: true)
        _ = busy.bodyWatched()
        #expect(busy.timerFired(now: Self.start + .seconds(61)) == .schedule(Self.start + .seconds(121)))
        #expect(state.timerFired(now: Self.start + .seconds(60)) == .close)
        #expect(state.phase == .closed)
        #expect(state.timerFired(now: Self.start + .seconds(70)) == .none)
    }

    @Test func bytesMoveTheIdleDeadline() {
        var state = state()
        _ = state.read(now: Self.start + .seconds(50))
        #expect(state.deadline(now: Self.start + .seconds(50)) == Self.start + .seconds(110))
        #expect(state.parsed(headInProgress: false, now: Self.start + .seconds(50)) == .none)
    }

    /// A client that pipelines without reading parks the connection; the socket taking
    /// answers again resumes it.
    @Test func aFullSocketStopsReadingUntilItDrains() {
        var state = state()
        #expect(state.socketFull() == .stopReading)
        #expect(state.phase == .parked)
        #expect(state.socketFull() == .none)
        #expect(state.socketWritable() == .resumeReading)
        #expect(state.phase == .serving)
        #expect(state.socketWritable() == .none)
    }

    /// Requests that wait for the socket keep a shutting-down connection open until they are
    /// answered; then the last answer closes it.
    @Test func waitingRequestsAreAnsweredBeforeTheEnd() {
        var state = state()
        _ = state.answering(clientKeepsAlive: true)
        _ = state.bodyWatched()
        _ = state.socketFull()
        #expect(state.quiesce() == .none)
        #expect(state.phase == .quiescingParked)
        #expect(state.written(now: Self.start, failed: false) == .none)
        #expect(state.socketWritable() == .resumeReading)
        #expect(state.answering(clientKeepsAlive: true) == .answer(keepAlive: false, watched: true))
        #expect(state.settle() == .none)
        #expect(state.written(now: Self.start, failed: false) == .closeAfterWrites)
    }

    /// Nothing waited after all (only part of a head): the connection closes when the socket
    /// drains.
    @Test func aDrainedSocketWithNothingToAnswerSettlesClosed() {
        var state = state()
        _ = state.socketFull()
        #expect(state.quiesce() == .none)
        #expect(state.socketWritable() == .resumeReading)
        #expect(state.settle() == .closeAfterWrites)
        #expect(state.phase == .closed)
    }
}
