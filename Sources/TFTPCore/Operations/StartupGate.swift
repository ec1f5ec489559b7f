/// Holds every listener between binding and serving until all of them are bound, then runs
/// `release` once (the daemon drops privileges there: port 69 is bound as root, no request
/// is read as root) and lets them all go on, or fails them all with its error.
///
/// Waiting is cancellable: when one service fails to bind, the service group cancels the
/// others, which leave the gate with `CancellationError`.
public actor StartupGate {
    private let expected: Int
    private let release: @Sendable () throws -> Void
    private var arrived = 0
    private var outcome: Result<Void, any Error>?
    private var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
    private var nextWaiter = 0

    /// - Parameter expected: how many services will call ``arrive()``.
    public init(expected: Int, release: @escaping @Sendable () throws -> Void) {
        self.expected = expected
        self.release = release
    }

    /// Called by a service once its sockets are bound; returns when all have arrived and
    /// `release` succeeded, throws its error otherwise.
    public func arrive() async throws {
        if let outcome { return try outcome.get() }
        arrived += 1
        if arrived >= expected {
            let result = Result<Void, any Error> { try release() }
            finish(result)
            return try result.get()
        }
        let id = nextWaiter
        nextWaiter += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else if let outcome {
                    continuation.resume(with: outcome)
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func finish(_ result: Result<Void, any Error>) {
        outcome = result
        for continuation in waiters.values { continuation.resume(with: result) }
        waiters.removeAll()
    }

    private func cancel(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }
}
