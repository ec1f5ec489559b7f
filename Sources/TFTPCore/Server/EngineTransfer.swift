import NIOCore

/// One running transfer as its engine thread holds it: the pure endpoint (machine and
/// transfer-ID rule), its socket, its read-ahead packets, its pending timer entry and
/// what waits for room in the send buffer. Owned by exactly one thread; nothing here is
/// shared, so nothing here is locked.
final class EngineTransfer {
    /// Its place in the thread's table, and the generation of that place (timer entries
    /// and completed reads carry both, so a stale one never reaches a later transfer).
    let slot: Int
    let generation: UInt32
    /// Its own UDP socket (the server's transfer ID), or in single-port mode the listener's.
    let socket: Int32
    let ownsSocket: Bool
    /// The listener that admitted it.
    let listener: Int
    var endpoint: ServerEndpoint<PeerAddress>
    /// What is sent; nil when the request was refused (the machine ends it at once).
    let content: ContentReader?
    let started: NIODeadline

    /// The deadline (monotonic nanoseconds) of its pending timer entry, if it has one.
    var armed: UInt64?

    /// Packets read ahead: DATA frames (4-byte header, then the block) back to back for
    /// blocks `cachedFirst ..< cachedFirst + cachedCount`, read with one preadv. A window
    /// is sent straight from here; a lockstep transfer reads once per read-ahead.
    var buffer: FrameBuffer?
    var cachedFirst: UInt64 = 0
    var cachedCount = 0
    var cachedFrameSize = 0
    /// A read that had to wait for the device, running on a reader thread: which blocks.
    /// The buffer is the reader's until its completion arrives.
    var readInFlight: ServerTransfer.DataWindow?
    /// The window to send once that read is done (the machine's latest).
    var windowAfterRead: ServerTransfer.DataWindow?

    /// What could not be sent because the socket's send buffer was full (EAGAIN); sent
    /// when epoll says the socket is writable again, or replaced by the machine's next send.
    enum Pending {
        /// A window, of which the first `sent` datagrams went out.
        case window(ServerTransfer.DataWindow, sent: Int)
        /// A control packet (OACK, ERROR).
        case packet([UInt8])
    }
    var pending: Pending?
    /// Whether the thread waits for EPOLLOUT on this transfer's behalf.
    var waitsForWritable = false
    /// UDP GSO for its windows; turned off if the kernel refuses it on this path (segments
    /// larger than the path MTU).
    var segmentationOffload: Bool
    /// Finished, but its last ERROR still waits for room in the send buffer (bounded wait).
    var lingering = false
    /// Its client never acknowledged the first packet: the machine is silent and the
    /// transfer holds no slot in the admission table, only its socket and file.
    var suspended = false

    init(
        slot: Int, generation: UInt32, socket: Int32, ownsSocket: Bool, listener: Int,
        endpoint: ServerEndpoint<PeerAddress>, content: ContentReader?, started: NIODeadline,
        segmentationOffload: Bool
    ) {
        self.slot = slot
        self.generation = generation
        self.socket = socket
        self.ownsSocket = ownsSocket
        self.listener = listener
        self.endpoint = endpoint
        self.content = content
        self.started = started
        self.segmentationOffload = segmentationOffload
    }

    var client: PeerAddress { endpoint.client }

    /// The read-ahead frame of `block` (absolute index), if it is read ahead at `frameSize`.
    func cachedFrame(_ block: UInt64, count: Int, frameSize: Int) -> UnsafeMutableRawPointer? {
        guard let buffer, readInFlight == nil, cachedFrameSize == frameSize, block >= cachedFirst,
            block + UInt64(count) <= cachedFirst + UInt64(cachedCount)
        else { return nil }
        return buffer.base + Int(block - cachedFirst) * frameSize
    }

    /// Lets go of the read-ahead packets (a finished transfer keeps nothing; a read in
    /// flight keeps the memory until it is done).
    func dropFrames() {
        buffer = nil
        cachedCount = 0
        readInFlight = nil
        windowAfterRead = nil
    }
}
