import CTFTPShims
import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// The one door to the disk: opens files beneath the served root and decides what may
/// be served. Both TFTP and HTTP go through ``open(_:)``.
///
/// - The root is a path, not a directory opened once (``RootPath``; docs/operations.md,
///   "Rolling out content"): a swapped release link, a replaced directory on the path or a
///   bind mount put over it serves the next request. A transfer keeps the file it opened.
/// - Names come as a ``RequestPath`` (already sanitized) and are opened with openat2 and
///   RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel refuses (EXDEV) any name or
///   symlink that leads out of the root. Symlinks inside the root are followed.
/// - Where the kernel lacks openat2 (before Linux 5.6: ENOSYS), components are opened one
///   by one with O_NOFOLLOW: no symlinks at all are followed there, which is safe because
///   sanitized names hold no `..`.
/// - Opens are O_NONBLOCK | O_NOCTTY, so a FIFO or a device never blocks the server;
///   then `fstat` must show a regular file (tftp-hpa, atftpd and dnsmasq all hang on a FIFO).
/// - The traditional tftp-hpa rule, on by default: only world-readable files are served,
///   even when the server could read more (a 0600 file is refused).
public final class ContentRoot: Sendable {
    /// What may be served.
    public struct Policy: Sendable, Equatable {
        /// Serve only files with the "other" read bit (tftp-hpa's default rule).
        public var requireWorldReadable: Bool
        /// Follow symlinks that stay inside the root.
        public var followSymlinks: Bool
        /// Use the per-component fallback even where openat2 exists (tests).
        public var forceFallback: Bool

        public init(requireWorldReadable: Bool = true, followSymlinks: Bool = true, forceFallback: Bool = false) {
            self.requireWorldReadable = requireWorldReadable
            self.followSymlinks = followSymlinks
            self.forceFallback = forceFallback
        }
    }

    /// Why the root itself cannot be used (``RootPath/RootError``).
    public typealias RootError = RootPath.RootError
    /// What the root's path led to when it was last looked up (``RootPath/Change``).
    public typealias Change = RootPath.Change

    public let policy: Policy
    /// The root: what `--root` names, looked up again as it changes.
    public let location: RootPath

    /// The served path.
    public var path: String { location.path }

    /// Opens the directory `path` leads to (the root may itself be a symlink). `onChange` is
    /// told when a later lookup finds another directory, or none (a log line).
    public init(
        path: String, policy: Policy = .init(), recheckInterval: TimeAmount = .milliseconds(100),
        onChange: @escaping @Sendable (Change) -> Void = { _ in }
    ) throws {
        location = try RootPath(path: path, recheckInterval: recheckInterval, onChange: onChange)
        self.policy = policy
    }

    /// Looks the root's path up now (SIGHUP: an operator who swapped the root says so).
    public func recheck() {
        location.recheck()
    }

    /// Where `path` leads, for the log line (the path itself if `realpath` cannot say).
    public static func resolved(_ path: String) -> String {
        RootPath.resolved(path)
    }

    private func directory() -> RootPath.Directory {
        location.directory()
    }

    /// Opens a name beneath the root and checks that it may be served.
    public func open(_ name: RequestPath) throws(ContentError) -> ContentFile {
        let opened = try openAndStat(name)
        let info = opened.info
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            break
        case S_IFDIR:
            throw .directory
        default:
            throw .notRegularFile
        }
        if policy.requireWorldReadable && info.st_mode & S_IROTH == 0 {
            throw .notReadable
        }
        return ContentFile(descriptor: opened.take(), info: info)
    }

    /// What `name` leads to now, without opening it: for a cache that must not serve a file
    /// that was replaced, changed, made unreadable or deleted. nil when nothing is there, or
    /// when this root's policy needs the door itself (symlinks refused, no openat2). Only an
    /// identity equal to that of a file the door opened (same device and inode, size, times
    /// and mode) may stand for it; the last component is not followed, so a symlink put in a
    /// file's place never matches. The empty path is the root itself.
    public func identity(of name: RequestPath) -> ContentFile.Identity? {
        guard policy.followSymlinks, !policy.forceFallback else { return nil }
        let root = directory()
        var info = stat()
        if name.isRoot {
            return fstat(root.descriptor, &info) == 0 ? ContentFile.Identity(info) : nil
        }
        let result = name.relativePath.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars -> Int32 in
                // relativePath has no NUL (the sanitizer refuses it); add the terminator,
                // without a heap allocation (the HTTP cache asks this for every hit).
                withUnsafeTemporaryAllocation(of: CChar.self, capacity: chars.count + 1) { path in
                    _ = path.initialize(from: chars)
                    path[chars.count] = 0
                    return fstatat(root.descriptor, path.baseAddress!, &info, AT_SYMLINK_NOFOLLOW)
                }
            }
        }
        return result == 0 ? ContentFile.Identity(info) : nil
    }

    /// One name in a directory listing.
    public struct DirectoryEntry: Equatable, Sendable {
        public var name: [UInt8]
        public var isDirectory: Bool
    }

    /// The entries of a directory beneath the root, sorted by name, for the HTTP listing.
    /// The same door and rules as ``open(_:)``: opened beneath the root, world-readable
    /// by default. Names starting with `.` are left out (hidden, and the temporary
    /// files of uploads in progress).
    public func list(_ name: RequestPath) throws(ContentError) -> [DirectoryEntry] {
        try readDirectory(name, includeHidden: false).sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Every name in the directory `name` but `.` and `..`, unsorted: for finding a name
    /// without regard to case (``NameResolver``). The directory is opened through the door,
    /// so it is beneath the root.
    public func names(in name: RequestPath) throws(ContentError) -> [[UInt8]] {
        try readDirectory(name, includeHidden: true).map(\.name)
    }

    private func readDirectory(_ name: RequestPath, includeHidden: Bool) throws(ContentError) -> [DirectoryEntry] {
        let opened = try openAndStat(name)
        guard opened.info.st_mode & S_IFMT == S_IFDIR else { throw .notRegularFile }
        if policy.requireWorldReadable && opened.info.st_mode & S_IROTH == 0 {
            throw .notReadable
        }
        let raw = opened.take()
        guard let directory = fdopendir(raw) else {
            let error = errno
            close(raw)
            throw .io(errno: error)
        }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            guard includeHidden || name.first != UInt8(ascii: ".") else { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if !includeHidden && entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                // Never followed: a symlink is listed as a name, and where it leads is
                // decided by the door when it is requested.
                var target = stat()
                isDirectory =
                    name.withCString { fstatat(dirfd(directory), $0, &target, AT_SYMLINK_NOFOLLOW) } == 0
                    && target.st_mode & S_IFMT == S_IFDIR
            }
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }

    /// A name opened beneath the root, with what `fstat` says of it.
    private struct Opened: ~Copyable {
        var descriptor: OwnedDescriptor
        var info: stat

        consuming func take() -> Int32 { descriptor.take() }
    }

    private func openAndStat(_ name: RequestPath) throws(ContentError) -> Opened {
        let descriptor = try openDescriptor(name.relativePath)
        var info = stat()
        guard ctftp_fstat(descriptor.raw, &info) == 0 else { throw .io(errno: errno) }
        return Opened(descriptor: descriptor, info: info)
    }

    private static let openFlags: Int32 = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC

    /// Opens `relative` beneath the directory the root leads to now (kept open while the
    /// name is resolved, so a swap meanwhile cannot pull it away).
    private func openDescriptor(_ relative: [UInt8]) throws(ContentError) -> OwnedDescriptor {
        let root = directory()
        if !policy.forceFallback {
            let fd = relative.withCString {
                ctftp_open_beneath(root.descriptor, $0, Self.openFlags, policy.followSymlinks ? 0 : 1)
            }
            if fd >= 0 { return OwnedDescriptor(fd) }
            let error = errno
            if error != ENOSYS { throw Self.map(errno: error) }
        }
        return try openByComponents(relative, beneath: root)
    }

    /// The fallback without openat2: each component with O_NOFOLLOW.
    private func openByComponents(_ relative: [UInt8], beneath root: RootPath.Directory) throws(ContentError)
        -> OwnedDescriptor
    {
        var components = relative.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)[...]
        guard let last = components.popLast() else {
            // The root itself.
            let fd = openat(root.descriptor, ".", Self.openFlags)
            guard fd >= 0 else { throw Self.map(errno: errno) }
            return OwnedDescriptor(fd)
        }
        var parent: OwnedDescriptor? = nil
        for component in components {
            let fd = Array(component).withCString {
                openat(parent?.raw ?? root.descriptor, $0, ctftp_o_path() | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard fd >= 0 else { throw Self.map(errno: errno) }
            parent = OwnedDescriptor(fd)
        }
        let fd = Array(last).withCString { openat(parent?.raw ?? root.descriptor, $0, Self.openFlags | O_NOFOLLOW) }
        guard fd >= 0 else { throw Self.map(errno: errno) }
        return OwnedDescriptor(fd)
    }

    /// errno from opening a name, mapped to the closed error. ELOOP (a symlink where none
    /// may be followed) and EXDEV (an escape) both read as "outside the root".
    static func map(errno error: Int32) -> ContentError {
        switch error {
        case ENOENT, ENOTDIR: .notFound
        case EXDEV, ELOOP: .outsideRoot
        case EACCES, EPERM: .notReadable
        case ENAMETOOLONG: .invalidName
        case ENXIO, ENODEV: .notRegularFile
        default: .io(errno: error)
        }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with a NUL-terminated copy of these bytes.
    fileprivate func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) -> R {
        var copy = self
        copy.append(0)
        return copy.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}
