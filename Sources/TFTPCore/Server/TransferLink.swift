import NIOCore

/// What a ``TransferSession`` sends through: its own UDP socket (``TransferHandler``) or,
/// in single-port mode, the listening socket shared by every transfer
/// (``SinglePortDemultiplexer``). Every call is made on ``eventLoop``.
protocol TransferLink: AnyObject {
    var eventLoop: any EventLoop { get }
    var allocator: ByteBufferAllocator { get }
    /// Queues a datagram to the client; with `segmentSize`, the buffer holds several
    /// datagrams of that size that the kernel cuts apart (UDP GSO).
    func write(_ data: ByteBuffer, segmentSize: Int?)
    func flush()
    /// The transfer is over: its socket (own port) or its routing entry (single port) goes.
    func finished()
}
