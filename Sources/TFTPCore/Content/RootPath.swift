import CTFTPShims
import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// The served root as a path, not a directory opened once (docs/operations.md, "Rolling out
/// content"): what `--root` names is looked up again at most every ``recheckInterval`` (one
/// `stat`) and on ``recheck()`` (SIGHUP), and when it now leads to another directory — a
/// symlink swapped to a new release, a directory on its path replaced, a bind mount put over
/// it — that directory serves the next request through the door (``ContentRoot``), still
/// beneath it. While the path leads nowhere (a swap done in two steps), the directory it led
/// to keeps serving. ktftpd's design, which this server follows, serves "/tftp, which could
/// also be a symbolic link" by its path in the same way; nginx and atftpd too.
public final class RootPath: Sendable {
    /// Why the root itself cannot be used; thrown by ``init(path:recheckInterval:onChange:)``.
    public struct RootError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { "cannot open root directory \(path): \(String(cString: strerror(errno)))" }
    }

    /// What the root's path led to when it was last looked up, told to ``onChange``.
    public enum Change: Sendable, Equatable {
        /// The path now leads to another directory (`resolved`: where, as `realpath` says),
        /// which serves from now on.
        case switched(resolved: String)
        /// The path leads nowhere servable now (`errno`: why); the directory it led to
        /// before keeps serving, so that a swap done in two steps costs no request.
        case unreachable(errno: Int32)
    }

    /// The directory the root's path led to, open (O_PATH), with its identity.
    final class Directory: Sendable {
        let descriptor: Int32
        let device: UInt64
        let inode: UInt64

        init(descriptor: Int32, device: UInt64, inode: UInt64) {
            self.descriptor = descriptor
            self.device = device
            self.inode = inode
        }

        deinit {
            close(descriptor)
        }

        /// Opens the directory `path` leads to now.
        static func open(_ path: String) -> Result<Directory, RootError> {
            let fd = Glibc.open(path, ctftp_o_path() | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { return .failure(RootError(path: path, errno: errno)) }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let error = errno
                close(fd)
                return .failure(RootError(path: path, errno: error))
            }
            return .success(Directory(descriptor: fd, device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
        }
    }

    private struct Current {
        var directory: Directory
        /// When the path was last looked up (monotonic nanoseconds).
        var checked: UInt64
        /// The errno of the last failed lookup, reported once until the path serves again.
        var unreachable: Int32?
    }

    public let path: String
    /// How long a lookup of the root's path stands; 0: every request looks again.
    public let recheckInterval: TimeAmount
    private let current: NIOLockedValueBox<Current>
    private let onChange: @Sendable (Change) -> Void

    /// Opens the directory `path` leads to (the root may itself be a symlink). `onChange` is
    /// told when a later lookup finds another directory, or none (a log line).
    public init(
        path: String, recheckInterval: TimeAmount = .milliseconds(100),
        onChange: @escaping @Sendable (Change) -> Void = { _ in }
    ) throws(RootError) {
        let directory = try Directory.open(path).get()
        self.path = path
        self.recheckInterval = recheckInterval
        self.onChange = onChange
        current = NIOLockedValueBox(
            Current(directory: directory, checked: NIODeadline.now().uptimeNanoseconds, unreachable: nil))
    }

    /// The directory that serves now: the one the path led to at the last lookup, or, when
    /// that lookup is older than ``recheckInterval``, the one it leads to now.
    func directory(now: UInt64 = NIODeadline.now().uptimeNanoseconds) -> Directory {
        let (directory, due) = current.withLockedValue { current -> (Directory, Bool) in
            guard now &- current.checked >= UInt64(max(0, recheckInterval.nanoseconds)) else {
                return (current.directory, false)
            }
            // One thread looks; the others serve from the directory they have meanwhile.
            current.checked = now
            return (current.directory, true)
        }
        return due ? lookUp(from: directory) : directory
    }

    /// Looks the root's path up now (SIGHUP: an operator who swapped the root says so).
    public func recheck() {
        _ = lookUp(from: current.withLockedValue { $0.directory })
    }

    /// The directory the path leads to now; `known` when that is still it (one `stat`).
    private func lookUp(from known: Directory) -> Directory {
        var info = stat()
        if stat(path, &info) == 0, UInt64(info.st_dev) == known.device, UInt64(info.st_ino) == known.inode {
            let recovered = current.withLockedValue { current -> Bool in
                defer { current.unreachable = nil }
                return current.unreachable != nil
            }
            if recovered { onChange(.switched(resolved: Self.resolved(path))) }
            return known
        }
        switch Directory.open(path) {
        case .success(let found):
            let replaced = current.withLockedValue { current -> Bool in
                current.unreachable = nil
                guard current.directory.device != found.device || current.directory.inode != found.inode else {
                    return false
                }
                current.directory = found
                return true
            }
            if replaced { onChange(.switched(resolved: Self.resolved(path))) }
            return current.withLockedValue { $0.directory }
        case .failure(let error):
            let first = current.withLockedValue { current -> Bool in
                defer { current.unreachable = error.errno }
                return current.unreachable != error.errno
            }
            if first { onChange(.unreachable(errno: error.errno)) }
            return known
        }
    }

    /// Where `path` leads, for the log line (the path itself if `realpath` cannot say).
    public static func resolved(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
