import CTFTPShims
import Glibc

/// Detached POSIX threads for the engine and its readers (no Swift task, no NIO loop).
enum PosixThread {
    /// Starts a thread named `name` (for top -H and perf) that runs `body`; false when the
    /// system refused. The entry point is formed here, in a nonisolated function: a closure
    /// formed in top-level code would be main-actor isolated and must not run on another
    /// thread.
    @discardableResult
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        final class Start {
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let start = Unmanaged.passRetained(Start(name, body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
                ctftp_name_thread(start.name)
                start.body()
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
