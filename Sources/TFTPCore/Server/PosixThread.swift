#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Detached POSIX threads for the engine and its readers (no Swift task, no NIO loop).
enum PosixThread {
    /// Starts a thread that runs `body`; false when the system refused. The entry point is
    /// formed here, in a nonisolated function: a closure formed in top-level code would be
    /// main-actor isolated and must not run on another thread.
    @discardableResult
    static func spawn(_ body: @escaping @Sendable () -> Void) -> Bool {
        final class Start {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let start = Unmanaged.passRetained(Start(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<Start>.fromOpaque(argument).takeRetainedValue().body()
                return nil
            }, start)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            return false
        }
        pthread_detach(handle)
        return true
    }
}
