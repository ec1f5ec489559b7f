import NIOCore
import Testing

@testable import TFTPCore

@Suite struct RetransmitEstimatorTests {
    @Test func backoffDoublesToTheCapThenGivesUp() {
        let policy = RetransmitPolicy(initialTimeout: .seconds(1), maximumTimeout: .seconds(4), maxRetries: 4)
        var estimator = RetransmitEstimator(policy: policy, clientTimeoutSeconds: nil)
        var intervals: [TimeAmount] = [estimator.current]
        while estimator.timedOut() { intervals.append(estimator.current) }
        #expect(intervals == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
    }

    @Test func progressResetsTriesAndAdaptsToTheFloor() {
        var estimator = RetransmitEstimator(policy: RetransmitPolicy(), clientTimeoutSeconds: nil)
        _ = estimator.timedOut()
        estimator.progress(rttSample: .microseconds(300))
        #expect(estimator.retries == 0)
        #expect(estimator.current == .milliseconds(50))
    }

    @Test func slowRoundTripsRaiseTheTimeout() {
        var estimator = RetransmitEstimator(policy: RetransmitPolicy(), clientTimeoutSeconds: nil)
        for _ in 0..<20 { estimator.progress(rttSample: .milliseconds(100)) }
        #expect(estimator.current > .milliseconds(100))
        #expect(estimator.current < .milliseconds(200))
    }

    /// RFC 2349: a client's timeout is used as is, neither adapted nor doubled.
    @Test func clientTimeoutIsFixed() {
        var estimator = RetransmitEstimator(policy: RetransmitPolicy(), clientTimeoutSeconds: 5)
        estimator.progress(rttSample: .milliseconds(1))
        #expect(estimator.current == .seconds(5))
        _ = estimator.timedOut()
        #expect(estimator.current == .seconds(5))
    }

    @Test func policyClampsNonsense() {
        let policy = RetransmitPolicy(
            initialTimeout: .zero, minimumTimeout: .zero, maximumTimeout: .zero, maxRetries: -3)
        #expect(policy.minimumTimeout >= .milliseconds(1))
        #expect(policy.initialTimeout >= policy.minimumTimeout)
        #expect(policy.maxRetries == 0)
    }
}

extension RetransmitEstimatorTests {
    /// The round trip is measured even when the client fixed the timeout (RFC 2349); it
    /// then only informs, it does not set the interval.
    @Test func roundTripIsMeasuredUnderAFixedTimeout() {
        var estimator = RetransmitEstimator(policy: .init(), clientTimeoutSeconds: 6)
        #expect(estimator.smoothedRoundTrip == nil)
        estimator.progress(rttSample: .milliseconds(8))
        #expect(estimator.smoothedRoundTrip == .milliseconds(8))
        #expect(estimator.current == .seconds(6))
    }
}
