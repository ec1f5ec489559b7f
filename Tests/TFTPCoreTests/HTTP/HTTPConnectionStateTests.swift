import NIOCore
import Testing

@testable import TFTPCore

/// The life of one HTTP connection, rule by rule, with a virtual clock.
@Suite struct HTTPConnectionStateTests {
    private static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func state() -> HTTPConnectionState {
        HTTPConnectionState(headerTimeout: .seconds(10), idleTimeout: .seconds(60), now: Self.start)
    }

    @Test func keepAliveAnswersKeepTheConnection() {
        var state = state()
        let answer = state.answer(clientKeepsAlive: true)
        #expect(answer == (keepAlive: true, last: false))
        #expect(state.isOpen)
        #expect(state.watched == 0)
    }

    /// The client's `Connection: close` (or HTTP/1.0 without keep-alive): the last answer,
    /// watched; nothing more is read; the connection closes when it is written.
    @Test func aClosingAnswerIsTheLast() {
        var state = state()
        let answer = state.answer(clientKeepsAlive: false)
        #expect(answer == (keepAlive: false, last: true))
        #expect(!state.isOpen)
        let closes = state.written(now: Self.start, failed: false)
        #expect(closes)
        #expect(state.phase == .closed)
    }

    /// Shutdown with nothing in flight: close once what is written is out.
    @Test func anIdleConnectionClosesOnShutdown() {
        var state = state()
        _ = state.answer(clientKeepsAlive: true)
        let closes = state.quiesce()
        #expect(closes)
        #expect(state.phase == .closed)
    }

    /// Shutdown while a body goes out: a request read after it is answered with
    /// `Connection: close`; the body's end does not close (an answer follows it); the last
    /// answer does.
    @Test func aBusyConnectionAnswersWithCloseDuringShutdown() {
        var state = state()
        let first = state.answer(clientKeepsAlive: true)
        #expect(first == (keepAlive: true, last: false))
        state.watch()
        let closesAtOnce = state.quiesce()
        #expect(!closesAtOnce)
        #expect(state.isOpen)
        let second = state.answer(clientKeepsAlive: true)
        #expect(second == (keepAlive: false, last: true))
        #expect(!state.isOpen)
        let afterBody = state.written(now: Self.start, failed: false)
        #expect(!afterBody)
        let afterLast = state.written(now: Self.start, failed: false)
        #expect(afterLast)
        #expect(state.phase == .closed)
    }

    /// Shutdown while a body goes out and nothing else comes: the body's end closes.
    @Test func aBodyInFlightClosesTheConnectionAfterShutdown() {
        var state = state()
        _ = state.answer(clientKeepsAlive: true)
        state.watch()
        let closesAtOnce = state.quiesce()
        #expect(!closesAtOnce)
        let afterBody = state.written(now: Self.start, failed: false)
        #expect(afterBody)
    }

    @Test func aFailedWriteCloses() {
        var state = state()
        _ = state.answer(clientKeepsAlive: true)
        state.watch()
        let closes = state.written(now: Self.start, failed: true)
        #expect(closes)
        #expect(state.phase == .closed)
    }

    /// A refused head (400, 408, 414, 431, 505) is the last answer.
    @Test func aRefusalIsTheLast() {
        var state = state()
        let began = state.headInProgress(true, now: Self.start)
        #expect(began)
        state.refuse()
        #expect(!state.isOpen)
        #expect(state.headStarted == nil)
        let closes = state.written(now: Self.start, failed: false)
        #expect(closes)
    }

    /// The header timer runs from a head's first byte; a head that began earlier keeps its
    /// start.
    @Test func aHeadMustArriveInTime() {
        var state = state()
        let later = Self.start + .seconds(30)
        let began = state.headInProgress(true, now: later)
        #expect(began)
        let beganAgain = state.headInProgress(true, now: later + .seconds(5))
        #expect(!beganAgain)
        #expect(state.deadline(now: later) == later + .seconds(10))
        let early = state.check(now: later + .seconds(9))
        #expect(early == .again(later + .seconds(10)))
        let due = state.check(now: later + .seconds(10))
        #expect(due == .headTimedOut)
    }

    /// Idle for the idle timeout: closed; a body going out is not idleness.
    @Test func anIdleConnectionTimesOutUnlessABodyGoesOut() {
        var state = state()
        let early = state.check(now: Self.start + .seconds(59))
        #expect(early == .again(Self.start + .seconds(60)))
        var busy = state
        _ = busy.answer(clientKeepsAlive: true)
        busy.watch()
        let sending = busy.check(now: Self.start + .seconds(61))
        #expect(sending == .again(Self.start + .seconds(121)))
        let idle = state.check(now: Self.start + .seconds(60))
        #expect(idle == .close)
        #expect(state.phase == .closed)
        let after = state.check(now: Self.start + .seconds(70))
        #expect(after == .nothing)
    }

    @Test func bytesMoveTheIdleDeadline() {
        var state = state()
        state.read(now: Self.start + .seconds(50))
        #expect(state.deadline(now: Self.start + .seconds(50)) == Self.start + .seconds(110))
        let began = state.headInProgress(false, now: Self.start + .seconds(50))
        #expect(!began)
    }

    /// Requests that wait for the socket keep a shutting-down connection open until they are
    /// answered; then the last answer closes it.
    @Test func waitingRequestsAreAnsweredBeforeTheEnd() {
        var state = state()
        _ = state.answer(clientKeepsAlive: true)
        state.watch()
        state.park()
        let closesAtOnce = state.quiesce()
        #expect(!closesAtOnce)
        let afterBody = state.written(now: Self.start, failed: false)
        #expect(!afterBody)
        state.unpark()
        let last = state.answer(clientKeepsAlive: true)
        #expect(last == (keepAlive: false, last: true))
        let settled = state.settle()
        #expect(!settled)
        let afterLast = state.written(now: Self.start, failed: false)
        #expect(afterLast)
    }

    /// Nothing waited after all (only part of a head): the connection closes when the socket
    /// drains.
    @Test func aDrainedSocketWithNothingToAnswerSettlesClosed() {
        var state = state()
        state.park()
        let closesAtOnce = state.quiesce()
        #expect(!closesAtOnce)
        state.unpark()
        let settled = state.settle()
        #expect(settled)
        #expect(state.phase == .closed)
    }
}
