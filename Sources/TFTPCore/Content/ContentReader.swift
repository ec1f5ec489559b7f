import NIOCore

/// What one transfer reads from: a file by positioned reads, or, for netascii, the
/// file's encoded copy in memory (see ``NetASCII``).
public enum ContentReader: Sendable {
    case file(ContentFile)
    case memory(ByteBuffer)

    /// Files larger than this are refused in netascii mode (it is for small text files).
    public static let netASCIILimit = 16 << 20

    /// Prepares the content for a transfer mode: octet reads the file as it is; netascii
    /// reads and encodes it whole.
    public static func make(_ file: ContentFile, mode: TransferMode) throws(ContentError) -> ContentReader {
        guard mode == .netascii else { return .file(file) }
        guard file.size <= netASCIILimit else { throw .tooLarge }
        var raw = ByteBufferAllocator().buffer(capacity: Int(file.size))
        try file.read(into: &raw, offset: 0, length: Int(file.size))
        return .memory(NetASCII.encode(raw))
    }

    /// Bytes a transfer will send.
    public var size: Int64 {
        switch self {
        case .file(let file): file.size
        case .memory(let buffer): Int64(buffer.readableBytes)
        }
    }

    /// Appends `length` bytes from `offset` to `buffer`.
    @inlinable
    public func read(into buffer: inout ByteBuffer, offset: Int64, length: Int) throws(ContentError) {
        switch self {
        case .file(let file):
            try file.read(into: &buffer, offset: offset, length: length)
        case .memory(let content):
            guard var slice = content.getSlice(at: content.readerIndex + Int(offset), length: length) else {
                throw .io(errno: 5)
            }
            buffer.writeBuffer(&slice)
        }
    }

    /// Appends consecutive chunks from `offset`, each after a `gap` the caller fills in
    /// (see ``ContentFile/read(into:offset:lengths:gap:)``).
    public func read(into buffer: inout ByteBuffer, offset: Int64, lengths: [Int], gap: Int) throws(ContentError) {
        switch self {
        case .file(let file):
            try file.read(into: &buffer, offset: offset, lengths: lengths, gap: gap)
        case .memory:
            var position = offset
            for length in lengths {
                buffer.writeRepeatingByte(0, count: gap)
                try read(into: &buffer, offset: position, length: length)
                position += Int64(length)
            }
        }
    }
}
