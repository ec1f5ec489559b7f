import CTFTPShims
import Glibc
import NIOCore

/// An open regular file beneath the root, checked by ``ContentRoot``. The descriptor is
/// closed when the last reference goes.
public final class ContentFile: Sendable {
    public let descriptor: Int32
    /// Size in bytes at open time (64-bit: installer ISOs exceed 4 GiB).
    public let size: Int64
    /// Last modification, seconds and nanoseconds since the epoch (HTTP validators).
    public let modificationTime: (seconds: Int, nanoseconds: Int)
    public let inode: UInt64
    public let device: UInt64
    /// What this file was when it was opened, to tell later whether a name still leads to
    /// it unchanged (``ContentRoot/identity(of:)``).
    public let identity: Identity

    /// A file's identity and version: the same device and inode, size, modification and
    /// change times (a chmod or a write moves the change time) and mode.
    public struct Identity: Equatable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var modified: Int64
        public var changed: Int64
        public var mode: UInt32

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
            changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
            mode = UInt32(info.st_mode)
        }
    }

    /// Its hard links when opened (see ``isUnchanged()``).
    let links: UInt64

    init(descriptor: Int32, info: stat) {
        self.identity = Identity(info)
        self.links = UInt64(info.st_nlink)
        self.descriptor = descriptor
        self.size = Int64(info.st_size)
        self.modificationTime = (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        self.inode = UInt64(info.st_ino)
        self.device = UInt64(info.st_dev)
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Whether the file is still the version that was opened: the same size and
    /// modification time (a write moves it; a truncation the size too), and the same change
    /// time unless only its links changed. One `fstat`. A file renamed over this one's name,
    /// or this one deleted, is no change of its bytes: that moves the change time through
    /// the link count alone, and the transfer goes on with the file it opened. A change of
    /// the change time with the links as they were (a chmod, or a write whose modification
    /// time was set back) counts as a change.
    public func isUnchanged() -> Bool {
        var info = stat()
        guard ctftp_fstat(descriptor, &info) == 0 else { return false }
        let now = Identity(info)
        guard now.size == identity.size, now.modified == identity.modified else { return false }
        return now.changed == identity.changed || UInt64(info.st_nlink) != links
    }

    /// Throws ``ContentError/changed`` unless ``isUnchanged()``.
    public func verifyUnchanged() throws(ContentError) {
        guard isUnchanged() else { throw .changed }
    }

    /// Appends `length` bytes from `offset` to `buffer` with a positioned read (one
    /// descriptor, no shared file position). A file that shrank under us is an I/O error,
    /// never a short block that would end a transfer early. With `verify`, the file must
    /// still be the version that was opened once the bytes are read (``isUnchanged()``).
    public func read(into buffer: inout ByteBuffer, offset: Int64, length: Int, verify: Bool = false)
        throws(ContentError)
    {
        guard length > 0 else {
            if verify { try verifyUnchanged() }
            return
        }
        var failure: ContentError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
            do throws(ContentError) {
                try readFrames(
                    into: pointer.baseAddress!, frames: .init(gap: 0, chunk: length, count: 1, last: length),
                    offset: offset, verify: verify)
                return length
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }

    /// The whole file in memory, read as the version that was opened, when every byte is in
    /// the page cache already; nil when reading would wait for the device (the caller reads
    /// it where waiting stalls nobody) or the file is larger than `limit`.
    public func copyIfCached(limit: Int) throws(ContentError) -> ByteBuffer? {
        guard size <= Int64(limit) else { return nil }
        guard size > 0 else {
            try verifyUnchanged()
            return ByteBuffer()
        }
        var bytes = ByteBufferAllocator().buffer(capacity: Int(size))
        var failure: ContentError?
        var complete = true
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(size)) { pointer in
            do throws(ContentError) {
                complete = try readFrames(
                    into: pointer.baseAddress!, frames: .init(gap: 0, chunk: Int(size), count: 1, last: Int(size)),
                    offset: 0, cachedOnly: true, verify: true)
                return complete ? Int(size) : 0
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return complete ? bytes : nil
    }

    /// Consecutive chunks of the file laid out as frames in memory: each chunk after a gap
    /// of `gap` bytes that the caller fills in (a TFTP DATA header). All chunks are `chunk`
    /// bytes but the last, which is `last` bytes (0 for the empty DATA that ends a file
    /// whose size is a multiple of the block size).
    public struct Frames: Equatable, Sendable {
        public var gap: Int
        public var chunk: Int
        public var count: Int
        public var last: Int

        public init(gap: Int, chunk: Int, count: Int, last: Int) {
            self.gap = gap
            self.chunk = chunk
            self.count = count
            self.last = last
        }

        /// Bytes from the first frame's start to the last chunk's end.
        public var byteCount: Int { count == 0 ? 0 : (count - 1) * (gap + chunk) + gap + last }
        /// File bytes in all the chunks.
        public var payloadCount: Int { count == 0 ? 0 : (count - 1) * chunk + last }
    }

    /// Reads `frames` from the file at `offset` into memory at `base` with preadv: one
    /// system call for a whole window of DATA blocks, each landing after its header's gap.
    /// The same rule for a file that shrank: an I/O error.
    ///
    /// With `cachedOnly`, nothing waits for the device (preadv2 with RWF_NOWAIT): returns
    /// false when some of the bytes are not in the page cache (the kernel has started
    /// reading them) or the file system cannot tell; the caller reads again, blocking,
    /// where waiting stalls nobody. Returns true when every byte was read.
    ///
    /// With `verify`, once every byte is read the file must still be the version that was
    /// opened (``ContentError/changed`` otherwise): a transfer asks at the read that reaches
    /// the file's end, so its last block never leaves unless all of it came from one
    /// version (``VersionCheck``).
    @discardableResult
    public func readFrames(
        into base: UnsafeMutableRawPointer, frames: Frames, offset: Int64, cachedOnly: Bool = false,
        verify: Bool = false
    ) throws(ContentError) -> Bool {
        guard try readFramesUnverified(into: base, frames: frames, offset: offset, cachedOnly: cachedOnly) else {
            return false
        }
        if verify { try verifyUnchanged() }
        return true
    }

    private func readFramesUnverified(
        into base: UnsafeMutableRawPointer, frames: Frames, offset: Int64, cachedOnly: Bool
    ) throws(ContentError) -> Bool {
        let wanted = frames.payloadCount
        guard wanted > 0 else { return true }
        let stride = frames.gap + frames.chunk
        // IOV_MAX on Linux is 1024: larger runs go in batches.
        let failure: Int32 = withUnsafeTemporaryAllocation(of: iovec.self, capacity: min(frames.count, 1024)) {
            vectors in
            var done = 0
            var nextFrame = 0
            // Bytes of frame `nextFrame` already read (a short read may stop mid-chunk).
            var partial = 0
            while done < wanted {
                var used = 0
                var frame = nextFrame
                var skip = partial
                while used < vectors.count, frame < frames.count {
                    let length = (frame == frames.count - 1 ? frames.last : frames.chunk) - skip
                    if length > 0 {
                        vectors[used] = iovec(iov_base: base + frame * stride + frames.gap + skip, iov_len: length)
                        used += 1
                    }
                    frame += 1
                    skip = 0
                }
                let n =
                    cachedOnly
                    ? ctftp_preadv_nowait(descriptor, vectors.baseAddress, Int32(used), off_t(offset) + off_t(done))
                    : preadv(descriptor, vectors.baseAddress, Int32(used), off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    if cachedOnly && (errno == EAGAIN || errno == EOPNOTSUPP) { return EAGAIN }
                    return errno
                }
                if n == 0 { return EIO }
                done += n
                // Advance past the chunks filled completely; remember a partly filled one.
                var consumed = n + partial
                while nextFrame < frames.count {
                    let length = nextFrame == frames.count - 1 ? frames.last : frames.chunk
                    if consumed < length { break }
                    consumed -= length
                    nextFrame += 1
                }
                partial = consumed
            }
            return 0
        }
        if failure == EAGAIN && cachedOnly { return false }
        if failure != 0 { throw .io(errno: failure) }
        return true
    }
}
