import NIOCore

/// Netascii (RFC 764 via RFC 1350 §1): on the wire every line ends in CR LF and a bare
/// CR is sent as CR NUL.
///
/// The server encodes a whole file at once (netascii is used for small configuration
/// files, and a whole encoded copy gives the exact tsize and random access for windows
/// and retransmissions); the client decodes as a stream, since a CR can end one block
/// and its LF or NUL start the next.
public enum NetASCII {
    /// The wire form of `bytes`: LF becomes CR LF, CR becomes CR NUL.
    public static func encode(_ bytes: ByteBuffer, allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        let view = bytes.readableBytesView
        var extra = 0
        for byte in view where byte == 0x0A || byte == 0x0D { extra += 1 }
        var out = allocator.buffer(capacity: view.count + extra)
        var runStart = view.startIndex
        var index = view.startIndex
        while index < view.endIndex {
            let byte = view[index]
            if byte == 0x0A || byte == 0x0D {
                out.writeBytes(view[runStart..<index])
                out.writeBytes(byte == 0x0A ? [0x0D, 0x0A] : [0x0D, 0x00])
                runStart = index + 1
            }
            index += 1
        }
        out.writeBytes(view[runStart..<view.endIndex])
        return out
    }

    /// A streaming decoder: CR LF becomes LF, CR NUL becomes CR. A CR followed by
    /// anything else is kept as it came (lenient with sloppy senders).
    public struct Decoder: Sendable {
        private var pendingCR = false

        public init() {}

        /// Decodes one chunk; a trailing CR is held until the next chunk or ``finish()``.
        public mutating func decode(_ chunk: ByteBuffer) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(chunk.readableBytes)
            for byte in chunk.readableBytesView {
                if pendingCR {
                    pendingCR = false
                    switch byte {
                    case 0x0A: out.append(0x0A)
                    case 0x00: out.append(0x0D)
                    case 0x0D:
                        out.append(0x0D)
                        pendingCR = true
                    default: out.append(contentsOf: [0x0D, byte])
                    }
                } else if byte == 0x0D {
                    pendingCR = true
                } else {
                    out.append(byte)
                }
            }
            return out
        }

        /// Flushes a CR that ended the stream.
        public mutating func finish() -> [UInt8] {
            defer { pendingCR = false }
            return pendingCR ? [0x0D] : []
        }
    }
}
