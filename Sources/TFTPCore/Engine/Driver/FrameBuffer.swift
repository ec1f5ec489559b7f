/// One transfer's read-ahead memory: DATA frames back to back. A class, so that a read
/// in flight on a ``BlockingReadPool`` thread keeps the memory alive when the transfer
/// ends meanwhile. Used by one thread at a time: the engine thread, or the reader it
/// handed the read to, until the read's completion comes back.
final class FrameBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: max(capacity, 1), alignment: 16)
    }

    deinit {
        base.deallocate()
    }
}
