import Testing

@testable import TFTPCore

/// One name per outcome, and the metrics know every failure's name in advance.
@Suite struct OutcomeLabelTests {
    static let failures: [ServerTransfer.Outcome] = [
        .peerError(code: .diskFull, message: ""), .refused(code: .fileNotFound, reason: ""), .timedOut,
        .unacknowledged, .protocolViolation(.data), .readFailed(.io(errno: 5)), .aborted,
    ]

    @Test(arguments: failures)
    func everyFailureHasAMetricsLabel(_ outcome: ServerTransfer.Outcome) {
        #expect(!outcome.succeeded)
        #expect(ServerMetrics.failureReasons.contains(outcome.label))
    }

    @Test func successesAndDistinctNames() {
        #expect(ServerTransfer.Outcome.completed.succeeded && ServerTransfer.Outcome.sizeProbe.succeeded)
        let names = Self.failures.map(\.label) + ["completed", "size-probe"]
        #expect(Set(names).count == names.count)
        #expect(ServerMetrics.failureReasons.count == Self.failures.count)
    }
}
