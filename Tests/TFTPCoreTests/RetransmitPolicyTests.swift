import NIOCore
import Testing

@testable import TFTPCore

@Suite struct RetransmitPolicyTests {
    @Test func backoffDoublesToTheCapThenGivesUp() {
        let policy = RetransmitPolicy(initialTimeout: .seconds(1), maximumTimeout: .seconds(4), maxRetries: 4)
        var timer = RetransmitTimer(policy: policy, clientTimeoutSeconds: nil)
        var intervals: [TimeAmount] = [timer.current]
        while timer.timedOut() { intervals.append(timer.current) }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
    }

    @Test func progressResetsTriesAndAdaptsToTheFloor() {
        var timer = RetransmitTimer(policy: RetransmitPolicy(), clientTimeoutSeconds: nil)
        _ = timer.timedOut()
        timer.progress(rttSample: .microseconds(300))
        #expect(timer.retries == 0)
        #expect(timer.current == .milliseconds(50))
    }

    @Test func slowRoundTripsRaiseTheTimeout() {
        var timer = RetransmitTimer(policy: RetransmitPolicy(), clientTimeoutSeconds: nil)
        for _ in 0..<20 { timer.progress(rttSample: .milliseconds(100)) }
        #expect(timer.current > .milliseconds(100))
        #expect(timer.current < .milliseconds(200))
    }

    /// RFC 2349: a client's timeout is used as is, neither adapted nor doubled.
    @Test func clientTimeoutIsFixed() {
        var timer = RetransmitTimer(policy: RetransmitPolicy(), clientTimeoutSeconds: 5)
        timer.progress(rttSample: .milliseconds(1))
        #expect(timer.current == .seconds(5))
        _ = timer.timedOut()
        #expect(timer.current == .seconds(5))
    }

    @Test func policyClampsNonsense() {
        let policy = RetransmitPolicy(
            initialTimeout: .zero, minimumTimeout: .zero, maximumTimeout: .zero, maxRetries: -3)
        #expect(policy.minimumTimeout >= .milliseconds(1))
        #expect(policy.initialTimeout >= policy.minimumTimeout)
        #expect(policy.maxRetries == 0)
    }
}

extension RetransmitPolicyTests {
    /// The round trip is measured even when the client fixed the timeout (RFC 2349); it
    /// then only informs, it does not set the interval.
    @Test func roundTripIsMeasuredUnderAFixedTimeout() {
        var timer = RetransmitTimer(policy: .init(), clientTimeoutSeconds: 6)
        #expect(timer.smoothedRoundTrip == nil)
        timer.progress(rttSample: .milliseconds(8))
        #expect(timer.smoothedRoundTrip == .milliseconds(8))
        #expect(timer.current == .seconds(6))
    }
}
