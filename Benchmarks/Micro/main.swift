import Glibc
// Micro-benchmarks for the hot path: nanoseconds and heap allocations per packet for the
// codec and the server machine. Run with Benchmarks/micro (which preloads the allocation
// counter); without it, allocations are reported as "n/a".
import NIOCore
import TFTPCore

typealias CountFunction = @convention(c) () -> UInt
/// The preloaded counter from Benchmarks/malloc-count.c, when present.
let handle = dlopen(nil, RTLD_NOW)
let count: CountFunction? = dlsym(handle, "tftp_malloc_count").map { unsafeBitCast($0, to: CountFunction.self) }

@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

func measure(_ name: String, packets: Int, iterations: Int, _ body: (Int) -> Void) {
    body(min(iterations, 1000))  // warm up
    let before = count?() ?? 0
    let start = NIODeadline.now()
    body(iterations)
    let elapsed = NIODeadline.now() - start
    let after = count?() ?? 0
    let perPacket = Double(elapsed.nanoseconds) / Double(iterations * packets)
    let allocations = count == nil ? "n/a" : String(Double(after - before) / Double(iterations * packets))
    print("\(name): \(Int(perPacket.rounded())) ns/packet, \(allocations) allocations/packet")
}

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
var scratch = ByteBufferAllocator().buffer(capacity: 65536)
let payload = ByteBuffer(repeating: 0x5A, count: 1468)

measure("encode DATA 1468 into a reused buffer", packets: 1, iterations: iterations) { n in
    for i in 0..<n {
        scratch.clear()
        Packet.data(block: UInt16(truncatingIfNeeded: i), payload: payload).encode(into: &scratch)
    }
    blackHole(scratch)
}

let ack = Packet.ack(block: 7).encoded()
measure("decode ACK", packets: 1, iterations: iterations) { n in
    var last: Result<Packet, PacketDecodingError>?
    for _ in 0..<n { last = Packet.decode(ack) }
    blackHole(last)
}

let rrq = Packet.readRequest(
    Request(
        filename: Array("pxelinux.0".utf8), mode: .octet,
        options: [.init(name: "blksize", value: "1468"), .init(name: "tsize", value: "0")])
).encoded()
measure("decode RRQ with options", packets: 1, iterations: iterations / 4) { n in
    var last: Result<Packet, PacketDecodingError>?
    for _ in 0..<n { last = Packet.decode(rrq) }
    blackHole(last)
}

/// The server machine in steady state: an ACK in, the next window out.
func machineSteadyState(window: Int) {
    let size: Int64 = 1 << 40  // never ends within the run
    let options: [TransferOption] =
        [.init(name: "blksize", value: "1468")] + (window > 1 ? [.init(name: "windowsize", value: "\(window)")] : [])
    measure("server machine, ACK in -> window of \(window) out", packets: window, iterations: iterations / window) {
        n in
        var machine = ServerTransfer(
            request: Request(filename: Array("f".utf8), mode: .octet, options: options), configuration: .init())
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        _ = machine.start(content: .success(size), now: now)
        _ = machine.received(.ack(block: 0), now: now)
        var acked: UInt64 = 0
        for _ in 0..<n {
            acked += UInt64(window)
            now = now + .microseconds(20)
            blackHole(machine.received(.ack(block: BlockNumber.wire(acked)), now: now))
        }
    }
}
machineSteadyState(window: 1)
machineSteadyState(window: 16)
machineSteadyState(window: 64)
