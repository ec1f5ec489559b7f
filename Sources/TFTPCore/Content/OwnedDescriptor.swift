import Glibc

/// A file descriptor the door opened and must close exactly once: closed when the value
/// goes, unless it was handed on with ``take()`` (to a ``ContentFile`` or a directory
/// stream, which close it themselves). Not copyable, so no path can close it twice or
/// forget it.
struct OwnedDescriptor: ~Copyable {
    let raw: Int32

    init(_ raw: Int32) {
        self.raw = raw
    }

    /// Hands the descriptor on; whoever takes it closes it.
    consuming func take() -> Int32 {
        let raw = raw
        discard self
        return raw
    }

    deinit {
        close(raw)
    }
}
