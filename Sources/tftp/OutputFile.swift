import Glibc

/// Where `tftp get` writes: standard output, or a temporary file beside the target that
/// is renamed over it only when the transfer succeeded, so a failed or interrupted
/// transfer never leaves a partial file behind (and never clobbers an existing one).
/// A target that exists and is not a regular file (`/dev/null`, a FIFO) is written
/// directly, never replaced; an existing directory receives the file under `name`.
struct OutputFile {
    /// Why the output could not be prepared or kept.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let descriptor: CInt
    /// The final path; nil for standard output.
    let path: String?
    private let temporaryPath: String?

    /// `-` is standard output; anything else a file path. `name` is the base name used
    /// when `path` is a directory.
    init(_ path: String, name: String) throws(Failure) {
        guard path != "-" else {
            self.init(descriptor: STDOUT_FILENO, path: nil, temporaryPath: nil)
            return
        }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            if info.st_mode & S_IFMT == S_IFDIR {
                try self.init(path.hasSuffix("/") ? path + name : path + "/" + name, name: name)
                return
            }
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw Failure(description: "cannot open \(path): \(Self.lastError)") }
            self.init(descriptor: descriptor, path: nil, temporaryPath: nil)
            return
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(directory).\(base).tftp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw Failure(
                description: "cannot create a file in \(directory.isEmpty ? "." : directory): \(Self.lastError)")
        }
        let temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        self.init(descriptor: descriptor, path: path, temporaryPath: temporaryPath)
    }

    private init(descriptor: CInt, path: String?, temporaryPath: String?) {
        self.descriptor = descriptor
        self.path = path
        self.temporaryPath = temporaryPath
    }

    /// Keeps the file: the usual permissions (0666 less the umask; mkstemp made it 0600),
    /// then an atomic rename over the target.
    func commit() throws(Failure) {
        guard let path, let temporaryPath else {
            if descriptor != STDOUT_FILENO { close(descriptor) }
            return
        }
        let mask = umask(0)
        umask(mask)
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o666 & ~mask) == 0, rename(temporaryPath, path) == 0 else {
            let reason = Self.lastError
            unlink(temporaryPath)
            throw Failure(description: "cannot write \(path): \(reason)")
        }
    }

    /// Throws the partial file away.
    func discard() {
        if descriptor != STDOUT_FILENO { close(descriptor) }
        if let temporaryPath { unlink(temporaryPath) }
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}
