import Glibc
import NIOCore

/// Writes a transfer to an open descriptor (a temporary file or standard output),
/// decoding netascii on the way (RFC 1350 §5, RFC 764: CR LF → LF, CR NUL → CR).
/// The descriptor is borrowed: the owner opens and closes it.
public struct FileSink: TransferSink {
    public let descriptor: CInt
    private var decoder: NetASCII.Decoder?

    public init(descriptor: CInt, mode: TransferMode) {
        self.descriptor = descriptor
        self.decoder = mode == .netascii ? NetASCII.Decoder() : nil
    }

    public mutating func write(_ bytes: ByteBuffer) throws(SinkError) {
        if var decoder {
            let decoded = decoder.decode(bytes)
            self.decoder = decoder
            try decoded.withUnsafeBytes { raw in writeAll(raw) }.get()
        } else {
            try bytes.withUnsafeReadableBytes { raw in writeAll(raw) }.get()
        }
    }

    public mutating func finish() throws(SinkError) {
        guard var decoder else { return }
        let rest = decoder.finish()
        self.decoder = decoder
        try rest.withUnsafeBytes { raw in writeAll(raw) }.get()
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) -> Result<Void, SinkError> {
        guard let base = raw.baseAddress else { return .success(()) }
        var offset = 0
        while offset < raw.count {
            let written = systemWrite(descriptor, base + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return .failure(SinkError(String(cString: strerror(errno))))
            }
            offset += written
        }
        return .success(())
    }
}

private func systemWrite(_ descriptor: CInt, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
