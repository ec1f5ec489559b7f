import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

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

    init(descriptor: Int32, info: stat) {
        self.descriptor = descriptor
        self.size = Int64(info.st_size)
        self.modificationTime = (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        self.inode = UInt64(info.st_ino)
        self.device = UInt64(info.st_dev)
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Appends `length` bytes from `offset` to `buffer` with a positioned read (one
    /// descriptor, no shared file position). A file that shrank under us is an I/O error,
    /// never a short block that would end a transfer early.
    public func read(into buffer: inout ByteBuffer, offset: Int64, length: Int) throws(ContentError) {
        guard length > 0 else { return }
        try read(into: &buffer, offset: offset, lengths: [length], gap: 0)
    }

    /// Reads consecutive chunks of the file starting at `offset`, of the given `lengths`,
    /// into `buffer`, each placed after a gap of `gap` bytes the caller fills in (a TFTP
    /// DATA header). One preadv for a whole window instead of a read per block; the same
    /// rule for a file that shrank: an I/O error.
    public func read(
        into buffer: inout ByteBuffer, offset: Int64, lengths: [Int], gap: Int
    ) throws(ContentError) {
        let total = lengths.reduce(0) { $0 + gap + $1 }
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { pointer in
            guard let base = pointer.baseAddress else { return 0 }
            var vectors: [iovec] = []
            vectors.reserveCapacity(lengths.count)
            var position = 0
            for length in lengths {
                position += gap
                vectors.append(iovec(iov_base: base + position, iov_len: length))
                position += length
            }
            let wanted = lengths.reduce(0, +)
            var done = 0
            var first = 0
            while done < wanted {
                let batch = min(vectors.count - first, 1024)  // IOV_MAX on Linux
                let n = vectors.withUnsafeBufferPointer {
                    preadv(descriptor, $0.baseAddress! + first, Int32(batch), off_t(offset) + off_t(done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
                if n == 0 {
                    failure = EIO
                    return 0
                }
                done += n
                // Skip the vectors filled completely; trim a partly filled one.
                var consumed = n
                while first < vectors.count, consumed >= vectors[first].iov_len {
                    consumed -= vectors[first].iov_len
                    first += 1
                }
                if consumed > 0, first < vectors.count {
                    vectors[first].iov_base = vectors[first].iov_base.map { $0 + consumed }
                    vectors[first].iov_len -= consumed
                }
            }
            return total
        }
        if failure != 0 { throw .io(errno: failure) }
    }
}
