// libFuzzer target: what the datagram engine feeds the pure rules. The input is a script of
// events for one transfer: datagrams from the client or from a stranger (decoded in place,
// as the engine does, and checked against the one codec), timer firings and a shutdown.
// Nothing may trap; a stranger only ever gets ERROR 5; no ERROR is ever answered.
import NIOCore
import TFTPCore

struct Address: TransferAddress {
    var host: Int
    var port: Int
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let client = Address(host: 1, port: 1000)
    let request = Request(
        filename: Array("f".utf8), mode: .octet,
        options: [
            .init(name: "blksize", value: "8"), .init(name: "windowsize", value: "4"), .init(name: "tsize", value: "0"),
        ])
    var endpoint = ServerEndpoint(client: client, transfer: ServerTransfer(request: request))
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    _ = endpoint.transfer.start(content: .success(Int64(size) * 3), now: now)
    var index = 0
    while index + 2 <= input.count {
        let kind = input[index] & 3
        let length = Int(input[index + 1])
        index += 2
        let body = UnsafeRawBufferPointer(rebasing: input[index..<min(input.count, index + length)])
        index += body.count
        switch kind {
        case 0, 1:
            let raw = Packet.decode(body)
            let codec = Packet.decode(ByteBuffer(bytes: body))
            guard "\(raw)" == "\(codec)" else {
                fatalError("in-place decoding \(raw) differs from the codec's \(codec)")
            }
            let source = kind == 0 ? client : Address(host: 2, port: Int(input[index - 1]))
            switch endpoint.received(raw, from: source, now: now) {
            case .reply(let packet, let to):
                guard to == source, source != client,
                    packet == Packet.error(code: .unknownTransferID, message: "Unknown transfer ID")
                else { fatalError("unexpected reply \(packet) to \(to)") }
                if case .success(.error) = raw { fatalError("an ERROR was answered") }
            case .perform, .ignore:
                break
            }
            _ = ListenerDecision.decide(raw)
        case 2:
            now = now + .milliseconds(Int64(length) * 20)
            _ = endpoint.transfer.timerFired(now: now)
        default:
            _ = endpoint.transfer.beginShutdown(grace: .milliseconds(Int64(length)), now: now)
        }
    }
    return 0
}
