import Testing

@testable import TFTPCore

@Suite struct RequestRefusalTests {
    private static let all: [RequestRefusal] = [
        .writeRequest, .malformed(.emptyFilename), .malformed(.unknownMode("x")), .busy, .perClientLimit,
        .shuttingDown, .noTransferPort,
    ]

    /// Every label is reached by some refusal.
    @Test func labelsAreTheMetricsVocabulary() {
        #expect(Set(Self.all.map(\.reason)) == Set(RefusalReason.allCases))
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
    }

    @Test(arguments: [RequestRefusal.busy, .perClientLimit, .shuttingDown, .noTransferPort])
    func limitsAnswerError0(_ refusal: RequestRefusal) {
        guard case .error(let code, _) = refusal.reply else {
            Issue.record("not an ERROR")
            return
        }
        #expect(code == .notDefined)
    }
}
