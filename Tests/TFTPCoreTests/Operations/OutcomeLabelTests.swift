import Testing

@testable import TFTPCore

/// One name per outcome; the failure metric knows every failure's name in advance.
@Suite struct OutcomeLabelTests {
    static let failures: [ServerTransfer.Outcome] = [
        .peerError(code: .diskFull, message: ""), .refused(code: .fileNotFound, reason: ""), .timedOut,
        .unacknowledged, .superseded, .protocolViolation(.data), .readFailed(.io(errno: 5)), .aborted,
    ]

    @Test(arguments: failures)
    func everyFailureHasAMetricsLabel(_ outcome: ServerTransfer.Outcome) {
        #expect(!outcome.succeeded)
        #expect(OutcomeLabel.failures.contains(outcome.label))
    }

    @Test func everyLabelIsReachedOnce() {
        let labels = Self.failures.map(\.label) + [ServerTransfer.Outcome.completed.label, .sizeProbe]
        #expect(ServerTransfer.Outcome.completed.succeeded && ServerTransfer.Outcome.sizeProbe.succeeded)
        #expect(labels.count == OutcomeLabel.allCases.count)
        #expect(Set(labels) == Set(OutcomeLabel.allCases))
    }
}
