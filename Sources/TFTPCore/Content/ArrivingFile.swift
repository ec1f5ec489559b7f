import NIOConcurrencyHelpers

/// A file on its way from an origin into the cache (docs/fleet.md, "A cold file"): its bytes
/// land in a file of the cache as they arrive, and readers read what has landed meanwhile —
/// a TFTP transfer of a cold file begins as soon as the origin's headers give the size, and
/// sends each block once it is in. The last bytes are released only when the whole file is
/// in and verified (its SHA-256 against the origin's manifest, when there is one), so no
/// reader ever completes a file that turns out short or wrong: a download that fails ends
/// every reader with the error, and nothing partial is kept.
///
/// The origin's side calls ``begin(reading:size:)``, ``landed(_:)``, and ``complete(_:)`` or
/// ``fail(_:)``; readers look at ``state`` and ask to be told of each change
/// (``observe(_:)``: an engine thread's mailbox, an HTTP connection's event loop).
/// Thread-safe; every change tells every observer once.
public final class ArrivingFile: Sendable {
    public enum State: Sendable {
        /// The origin has not answered yet (a download, or a cached copy being revalidated).
        case waiting
        /// Bytes are landing in `file`: `landed` of `size` (nil when the origin did not say:
        /// readers that need the size wait for the end).
        case arriving(file: ContentFile, size: Int64?, landed: Int64)
        /// All of it is in and verified: `file` is the whole file (the new one, or the cached
        /// copy the origin said is still current).
        case complete(file: ContentFile)
        case failed(ContentError)
    }

    private struct Shared {
        var state = State.waiting
        var observers: [Int: @Sendable () -> Void] = [:]
        var nextObserver = 0
    }

    /// The name it is for (for log lines).
    public let name: String
    private let shared = NIOLockedValueBox(Shared())

    public init(name: String) {
        self.name = name
    }

    public var state: State { shared.withLockedValue { $0.state } }

    /// Whether all of it is in and verified.
    public var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// The size, once known.
    public var size: Int64? {
        switch state {
        case .waiting, .failed: nil
        case .arriving(_, let size, _): size
        case .complete(let file): file.size
        }
    }

    /// Calls `observer` after every change from now on, until ``forget(_:)`` or the end
    /// (complete or failed: observers are dropped after that last change). Returns a token.
    @discardableResult
    public func observe(_ observer: @escaping @Sendable () -> Void) -> Int {
        shared.withLockedValue { shared in
            shared.nextObserver += 1
            shared.observers[shared.nextObserver] = observer
            return shared.nextObserver
        }
    }

    public func forget(_ token: Int) {
        shared.withLockedValue { _ = $0.observers.removeValue(forKey: token) }
    }

    /// Waits until it is complete or failed, and returns that state.
    public func settled() async -> State {
        await withCheckedContinuation { (continuation: CheckedContinuation<State, Never>) in
            let resumed = NIOLockedValueBox(false)
            let check: @Sendable () -> Void = { [self] in
                let state = self.state
                switch state {
                case .waiting, .arriving: return
                case .complete, .failed:
                    let first = resumed.withLockedValue { done in
                        defer { done = true }
                        return !done
                    }
                    if first { continuation.resume(returning: state) }
                }
            }
            observe(check)
            check()
        }
    }

    // MARK: - The origin's side

    /// The origin answered: bytes will land in `reading` (a descriptor open on the file being
    /// written), `size` of them if it said.
    public func begin(reading file: ContentFile, size: Int64?) {
        change { $0 = .arriving(file: file, size: size, landed: 0) }
    }

    /// `total` bytes have landed.
    public func landed(_ total: Int64) {
        change { state in
            if case .arriving(let file, let size, _) = state {
                state = .arriving(file: file, size: size, landed: total)
            }
        }
    }

    /// All of it is in and verified; `file` is the whole file.
    public func complete(_ file: ContentFile) {
        change(last: true) { $0 = .complete(file: file) }
    }

    public func fail(_ error: ContentError) {
        change(last: true) { $0 = .failed(error) }
    }

    private func change(last: Bool = false, _ body: (inout State) -> Void) {
        let observers = shared.withLockedValue { shared -> [@Sendable () -> Void] in
            body(&shared.state)
            let all = Array(shared.observers.values)
            if last { shared.observers.removeAll() }
            return all
        }
        for observer in observers { observer() }
    }

    // MARK: - Readers

    /// Reads `frames` at `offset` if every byte of them has landed and may be read: the last
    /// bytes of the file only once it is complete. Returns false when they are not in yet (the
    /// caller waits for a change); throws the download's failure.
    public func readFrames(into base: UnsafeMutableRawPointer, frames: ContentFile.Frames, offset: Int64)
        throws(ContentError) -> Bool
    {
        let end = offset + Int64(frames.payloadCount)
        switch state {
        case .waiting:
            return false
        case .failed(let error):
            throw error
        case .complete(let file):
            return try file.readFrames(into: base, frames: frames, offset: offset)
        case .arriving(let file, let size, let landed):
            // The last bytes wait for the whole file and its proof.
            guard end <= landed, size.map({ end < $0 }) ?? true else { return false }
            return try file.readFrames(into: base, frames: frames, offset: offset)
        }
    }
}
