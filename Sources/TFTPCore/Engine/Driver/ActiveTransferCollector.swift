import NIOConcurrencyHelpers

/// Gathers the running transfers that each engine thread reports for the status page, and
/// resumes the waiting request once every thread has answered.
final class ActiveTransferCollector: Sendable, Equatable {
    private let state: NIOLockedValueBox<(left: Int, items: [StatusSnapshot.Active])>
    private let continuation: CheckedContinuation<[StatusSnapshot.Active], Never>

    init(expected: Int, continuation: CheckedContinuation<[StatusSnapshot.Active], Never>) {
        state = NIOLockedValueBox((expected, []))
        self.continuation = continuation
        if expected == 0 { continuation.resume(returning: []) }
    }

    /// One thread's transfers; the last thread's answer resumes the request.
    func add(_ items: [StatusSnapshot.Active]) {
        let done = state.withLockedValue { state -> [StatusSnapshot.Active]? in
            state.items += items
            state.left -= 1
            return state.left == 0 ? state.items : nil
        }
        if let done { continuation.resume(returning: done) }
    }

    static func == (lhs: ActiveTransferCollector, rhs: ActiveTransferCollector) -> Bool { lhs === rhs }
}
