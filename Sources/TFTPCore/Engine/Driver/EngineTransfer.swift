import NIOCore

/// What an engine thread holds of one transfer beside the core's ``RoutedTransfer`` (same
/// slot): its socket and client as the kernel knows them, its file, its read-ahead packets
/// and what waits to be sent. Owned by exactly one thread; nothing here is shared, so
/// nothing here is locked. It decides nothing: the core does.
final class EngineTransfer {
    /// What the transfer's sending waits for, if anything.
    enum Sending {
        /// Nothing: the next window or packet goes out at once.
        case idle
        /// A read that had to wait for the device runs on a reader thread, for these blocks
        /// (the frame buffer is the reader's until its completion arrives); `then` is the
        /// window the machine wants sent once it is done.
        case reading(ServerTransfer.DataWindow, then: ServerTransfer.DataWindow?)
        /// The send buffer was full (EAGAIN): this waits for the socket to be writable, or
        /// is replaced by the machine's next send.
        case blocked(Pending)
        /// The window's bytes have not landed yet (a file arriving from the origin): it goes
        /// when they have, or is replaced by the machine's next send.
        case awaiting(ServerTransfer.DataWindow)
    }

    /// What a full send buffer left behind. A plain value, like ``Sending``: the thread
    /// looks at it for every window, and copying it then costs no reference counting.
    enum Pending {
        /// A window, of which the first `sent` datagrams went out.
        case window(ServerTransfer.DataWindow, sent: Int)
        /// A control packet (OACK), whose bytes wait in ``pendingPacket``.
        case packet
    }

    let slot: Int
    let generation: UInt32
    /// Its own socket's descriptor, or in single-port mode the listener's.
    let descriptor: Int32
    let ownsSocket: Bool
    let listener: Int
    let client: PeerAddress
    /// What is sent; nil when the request was refused (the machine ends it at once).
    let content: ContentReader?

    // The mutable state is unchecked for exclusive access in release builds: only its engine
    // thread touches it, once per packet or more, and the run-time check costs more than the
    // work. Debug and test builds keep the check.

    #if DEBUG
        // Debug and test builds check every access; release builds trust the rule below.
        var sending = Sending.idle
        var pendingPacket: [UInt8] = []
        var watchesWritable = false
        var segmentationOffload: Bool
        var versionCheck: VersionCheck
        var buffer: FrameBuffer?
        var cachedFirst: UInt64 = 0
        var cachedCount = 0
        var cachedFrameSize = 0
    #else
        @exclusivity(unchecked) var sending = Sending.idle
        /// The bytes of the control packet a full send buffer left, while ``sending`` is
        /// `.blocked(.packet)`.
        @exclusivity(unchecked) var pendingPacket: [UInt8] = []
        /// Whether the thread asked epoll for writability on this transfer's behalf (it does
        /// exactly while ``sending`` is ``Sending/blocked(_:)``).
        @exclusivity(unchecked) var watchesWritable = false
        /// UDP GSO for its windows; turned off if the kernel refuses it on this path (segments
        /// larger than the path MTU).
        @exclusivity(unchecked) var segmentationOffload: Bool
        /// When the file is next checked to be the version the transfer opened.
        @exclusivity(unchecked) var versionCheck: VersionCheck

        /// Packets read ahead: DATA frames (the codec's header, then the block) back to back for
        /// blocks `cachedFirst ..< cachedFirst + cachedCount`, read with one preadv. A window is
        /// sent straight from here; a lockstep transfer reads once per read-ahead.
        @exclusivity(unchecked) var buffer: FrameBuffer?
        @exclusivity(unchecked) var cachedFirst: UInt64 = 0
        @exclusivity(unchecked) var cachedCount = 0
        @exclusivity(unchecked) var cachedFrameSize = 0
    #endif

    init(
        slot: Int, generation: UInt32, descriptor: Int32, ownsSocket: Bool, listener: Int, client: PeerAddress,
        content: ContentReader?, segmentationOffload: Bool, opened: NIODeadline
    ) {
        self.slot = slot
        self.generation = generation
        self.descriptor = descriptor
        self.ownsSocket = ownsSocket
        self.listener = listener
        self.client = client
        self.content = content
        self.segmentationOffload = segmentationOffload
        self.versionCheck = VersionCheck(opened: opened.uptimeNanoseconds)
    }

    var isBlocked: Bool {
        if case .blocked = sending { return true }
        return false
    }

    var isReading: Bool {
        if case .reading = sending { return true }
        return false
    }

    /// The read-ahead frame of `block` (absolute index), if it is read ahead at `frameSize`.
    func cachedFrame(_ block: UInt64, count: Int, frameSize: Int) -> UnsafeMutableRawPointer? {
        guard let buffer, !isReading, cachedFrameSize == frameSize, block >= cachedFirst,
            block + UInt64(count) <= cachedFirst + UInt64(cachedCount)
        else { return nil }
        return buffer.base + Int(block - cachedFirst) * frameSize
    }

    /// Lets go of the read-ahead packets (a finished or silent transfer keeps nothing; a read
    /// in flight keeps its buffer alive in the reader until it is done).
    func dropFrames() {
        buffer = nil
        cachedCount = 0
    }
}
