import Glibc
import NIOCore
import NIOPosix

/// Writes the body of a file answer that is not in memory, one way per connection: with
/// sendfile, or on a TLS connection (where sendfile cannot go) as buffers read on a small
/// thread pool. Either way a body is never completed from two versions of a file: the bytes
/// that go last are read and checked (``ContentFile/isUnchanged()``) before they go, so a file
/// rewritten in place under the answer ends the connection short of its Content-Length
/// (docs/operations.md, "Rolling out content"). Runs on the connection's event loop.
struct HTTPBodyWriter {
    /// Bytes a sendfile region covers at most before the file is checked again.
    static let regionBytes: Int64 = 16 << 20
    /// The last bytes, read into memory and checked before they go.
    static let tailBytes: Int64 = 64 * 1024
    /// Bytes read per chunk of a body copied through TLS.
    static let copyChunk = 256 * 1024

    /// Where chunks are read on a TLS connection; nil: sendfile.
    let reads: NIOThreadPool?

    /// Writes bytes `range` of `file` after what is already written; succeeds when the last
    /// byte is written.
    func write(_ file: ContentFile, range: Range<Int64>, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        if let reads { return copy(file, range: range, reads: reads, context: context) }
        return sendFile(file, range: range, context: context)
    }

    /// With sendfile, in regions of at most ``regionBytes``, the file checked between them;
    /// the last ``tailBytes`` read into memory and checked first.
    private func sendFile(_ file: ContentFile, range: Range<Int64>, context: ChannelHandlerContext)
        -> EventLoopFuture<Void>
    {
        let loop = context.eventLoop
        let descriptor = dup(file.descriptor)
        guard descriptor >= 0 else { return loop.makeFailedFuture(ContentError.io(errno: errno)) }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let done = loop.makePromise(of: Void.self)
        done.futureResult.whenComplete { _ in try? handle.close() }
        let tail = max(range.lowerBound, range.upperBound - Self.tailBytes)
        func send(from offset: Int64) {
            if offset > range.lowerBound, !file.isUnchanged() { return done.fail(ContentError.changed) }
            guard offset < tail else {
                var last = context.channel.allocator.buffer(capacity: Int(range.upperBound - tail))
                do {
                    try file.read(into: &last, offset: tail, length: Int(range.upperBound - tail), verify: true)
                } catch {
                    return done.fail(error)
                }
                return context.writeAndFlush(NIOAny(IOData.byteBuffer(last)), promise: done)
            }
            let end = min(offset + Self.regionBytes, tail)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(end))
            context.writeAndFlush(NIOAny(IOData.fileRegion(region))).assumeIsolated().whenComplete { result in
                switch result {
                case .success: send(from: end)
                case .failure(let error): done.fail(error)
                }
            }
        }
        send(from: range.lowerBound)
        return done.futureResult
    }

    /// As buffers, for a connection that cannot take sendfile (TLS): each chunk is read on
    /// `reads`, off the event loop, and the next one is read while the one before is written;
    /// the last chunk is checked once read.
    private func copy(
        _ file: ContentFile, range: Range<Int64>, reads: NIOThreadPool, context: ChannelHandlerContext
    ) -> EventLoopFuture<Void> {
        let loop = context.eventLoop
        let allocator = context.channel.allocator
        let done = loop.makePromise(of: Void.self)
        func read(at offset: Int64) -> EventLoopFuture<ByteBuffer> {
            let length = Int(min(Int64(Self.copyChunk), range.upperBound - offset))
            let verify = offset + Int64(length) >= range.upperBound
            return reads.runIfActive(eventLoop: loop) {
                var buffer = allocator.buffer(capacity: length)
                try file.read(into: &buffer, offset: offset, length: length, verify: verify)
                guard buffer.readableBytes == length else { throw ContentError.io(errno: EIO) }
                return buffer
            }
        }
        func send(_ chunk: EventLoopFuture<ByteBuffer>, at offset: Int64) {
            chunk.assumeIsolated().whenComplete { result in
                switch result {
                case .failure(let error):
                    done.fail(error)
                case .success(let bytes):
                    let next = offset + Int64(bytes.readableBytes)
                    let ahead = next < range.upperBound ? read(at: next) : nil
                    context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes))).assumeIsolated().whenComplete {
                        written in
                        switch written {
                        case .failure(let error): done.fail(error)
                        case .success:
                            if let ahead { send(ahead, at: next) } else { done.succeed() }
                        }
                    }
                }
            }
        }
        send(read(at: range.lowerBound), at: range.lowerBound)
        return done.futureResult
    }
}
