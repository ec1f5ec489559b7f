import NIOCore

/// What one transfer reads from: a file by positioned reads, or, for netascii, the
/// file's encoded copy in memory (see ``NetASCII``), or a file still arriving from the origin
/// (read as it lands, its last bytes once it is complete: ``ArrivingFile``).
public enum ContentReader: Sendable {
    case file(ContentFile)
    case memory(ByteBuffer)
    /// From the origin, its size known (the engine begins a transfer only then).
    case arriving(ArrivingFile, size: Int64)

    /// Files larger than this are refused in netascii mode (it is for small text files).
    public static let netASCIILimit = 16 << 20

    /// Prepares the content for a transfer mode: octet reads the file as it is; netascii
    /// reads and encodes it whole.
    public static func make(_ file: ContentFile, mode: TransferMode) throws(ContentError) -> ContentReader {
        guard mode == .netascii else { return .file(file) }
        guard file.size <= netASCIILimit else { throw .tooLarge }
        var raw = ByteBufferAllocator().buffer(capacity: Int(file.size))
        try file.read(into: &raw, offset: 0, length: Int(file.size))
        return inMemory(raw, mode: mode)
    }

    /// A file's bytes already in memory (a kept copy, a machine's script), as a transfer in
    /// `mode` sends them: as they are, or netascii-encoded.
    public static func inMemory(_ bytes: ByteBuffer, mode: TransferMode) -> ContentReader {
        .memory(mode == .netascii ? NetASCII.encode(bytes) : bytes)
    }

    /// Bytes a transfer will send.
    public var size: Int64 {
        switch self {
        case .file(let file): file.size
        case .memory(let buffer): Int64(buffer.readableBytes)
        case .arriving(_, let size): size
        }
    }

    /// Appends `length` bytes from `offset` to `buffer`.
    @inlinable
    public func read(into buffer: inout ByteBuffer, offset: Int64, length: Int) throws(ContentError) {
        switch self {
        case .arriving(let arriving, _):
            guard case .complete(let file) = arriving.state else { throw .io(errno: 11) }
            try file.read(into: &buffer, offset: offset, length: length)
        case .file(let file):
            try file.read(into: &buffer, offset: offset, length: length)
        case .memory(let content):
            guard var slice = content.getSlice(at: content.readerIndex + Int(offset), length: length) else {
                throw .io(errno: 5)
            }
            buffer.writeBuffer(&slice)
        }
    }

    /// Reads consecutive chunks from `offset` into frames at `base`, each after a gap the
    /// caller fills in (see ``ContentFile/readFrames(into:frames:offset:cachedOnly:)``);
    /// false when `cachedOnly` and the bytes are not all in memory yet.
    /// With `verify`, a file must still be the version that was opened once the bytes are
    /// read (content in memory is one version by construction).
    @discardableResult
    public func readFrames(
        into base: UnsafeMutableRawPointer, frames: ContentFile.Frames, offset: Int64, cachedOnly: Bool = false,
        verify: Bool = false
    ) throws(ContentError) -> Bool {
        switch self {
        case .arriving(let arriving, _):
            // What has landed is in the page cache: it was just written.
            return try arriving.readFrames(into: base, frames: frames, offset: offset)
        case .file(let file):
            return try file.readFrames(
                into: base, frames: frames, offset: offset, cachedOnly: cachedOnly, verify: verify)
        case .memory(let content):
            guard offset >= 0, offset + Int64(frames.payloadCount) <= Int64(content.readableBytes) else {
                throw .io(errno: 5)
            }
            content.withUnsafeReadableBytes { source in
                guard let start = source.baseAddress else { return }
                for i in 0..<frames.count {
                    let length = i == frames.count - 1 ? frames.last : frames.chunk
                    let from = start + Int(offset) + i * frames.chunk
                    (base + i * (frames.gap + frames.chunk) + frames.gap).copyMemory(from: from, byteCount: length)
                }
            }
            return true
        }
    }
}
