// libFuzzer target: the packet codec and option negotiation. Every input must decode to
// a packet or a closed error without trapping; a decoded packet must re-encode and decode
// to itself; an RRQ's options go through negotiation with any size.
import NIOCore
import TFTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard case .success(let packet) = Packet.decode(buffer) else { return 0 }
    let again = Packet.decode(packet.encoded())
    guard case .success(let decoded) = again, decoded.opcode == packet.opcode else {
        fatalError("re-encoding \(packet) did not decode to the same kind: \(again)")
    }
    if case .readRequest(let request) = packet {
        for size in [Int64(0), 1, 1 << 40] {
            var transfer = ServerTransfer(request: request, configuration: .init())
            _ = transfer.start(content: .success(size), now: .uptimeNanoseconds(1_000_000_000))
        }
        _ = try? RequestPath(request.filename)
    }
    return 0
}
