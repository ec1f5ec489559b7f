import Glibc

/// What a path leads to now, as far as telling a change goes: the device and inode of the
/// file at the end of every symbolic link (so a swapped link, a file renamed over the name
/// and a Kubernetes ConfigMap's `..data` swap all read as a change), its size, and its
/// modification and change times to the nanosecond (a rewrite in place moves them). nil
/// when the path leads nowhere.
public struct FileStamp: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64
    public var changed: Int64

    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
    }
}
