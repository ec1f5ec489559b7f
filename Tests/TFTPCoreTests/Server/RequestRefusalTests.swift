import Testing

@testable import TFTPCore

@Suite struct RequestRefusalTests {
    private static let all: [RequestRefusal] = [
        .writeRequest, .malformed(.emptyFilename), .malformed(.unknownMode("x")), .busy, .perClientLimit,
        .shuttingDown, .noTransferPort,
    ]

    /// One label per case, and the metric lists every label.
    @Test func labelsAreTheMetricsVocabulary() {
        #expect(Set(Self.all.map(\.reason)) == Set(RequestRefusal.reasons))
        #expect(RequestRefusal.reasons.count == Set(RequestRefusal.reasons).count)
    }

    /// WRQ: ERROR 2 (read-only); malformed: ERROR 4; the listener's limits: ERROR 0.
    @Test func replies() {
        func code(_ refusal: RequestRefusal) -> TFTPErrorCode? {
            if case .error(let code, _) = refusal.reply { return code }
            return nil
        }
        #expect(code(.writeRequest) == .accessViolation)
        #expect(code(.malformed(.unterminatedMode)) == .illegalOperation)
        #expect(code(.malformed(.unknownMode("x"))) == .illegalOperation)
        for refusal in [RequestRefusal.busy, .perClientLimit, .shuttingDown, .noTransferPort] {
            #expect(code(refusal) == .notDefined)
        }
    }
}
