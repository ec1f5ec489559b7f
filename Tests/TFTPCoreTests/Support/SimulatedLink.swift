import NIOCore
import TFTPCore

/// A client machine and a server machine joined by a simulated link that drops,
/// duplicates and reorders datagrams, driven by a virtual clock. Every packet goes
/// through the real codec. No sockets, no sleeps: thousands of transfers in seconds.
struct SimulatedLink {
    struct Conditions {
        var loss = 0.0
        var duplication = 0.0
        /// Extra random delay (0...jitter) per datagram, which reorders them.
        var jitter: TimeAmount = .zero
        var latency: TimeAmount = .microseconds(500)
    }

    struct Result {
        var client: ClientTransfer.Outcome?
        var server: ServerTransfer.Outcome?
        var received: [UInt8]
        var datagrams: Int
        var serverRetransmits: Int
        var elapsed: TimeAmount
    }

    private struct Delivery {
        var at: Int64
        var seq: Int
        var toServer: Bool
        var bytes: ByteBuffer
    }

    var conditions: Conditions
    var random: SeededRandom

    init(conditions: Conditions = .init(), seed: UInt64 = 1) {
        self.conditions = conditions
        self.random = SeededRandom(seed: seed)
    }

    /// Runs one transfer of `content` to completion (or until `eventLimit` events).
    mutating func run(
        content: [UInt8],
        mode: TransferMode = .octet,
        client clientConfiguration: ClientTransfer.Configuration,
        server serverConfiguration: ServerTransfer.Configuration = .init(),
        eventLimit: Int = 2_000_000
    ) -> Result {
        var client = ClientTransfer(filename: Array("file".utf8), configuration: clientConfiguration)
        var server: ServerTransfer?
        let wire = mode == .netascii ? NetASCII.encode(ByteBuffer(bytes: content)) : ByteBuffer(bytes: content)
        var received: [UInt8] = []
        var decoder = NetASCII.Decoder()
        var queue: [Delivery] = []
        var seq = 0
        var now: Int64 = 0
        var clientTimer: Int64?
        var serverTimer: Int64?
        var datagrams = 0
        var clientDone = false
        var serverDone = false

        func schedule(toServer: Bool, _ bytes: ByteBuffer, at time: Int64) {
            seq += 1
            queue.append(Delivery(at: time, seq: seq, toServer: toServer, bytes: bytes))
        }

        func transmit(_ packet: Packet, toServer: Bool) {
            datagrams += 1
            if random.chance(conditions.loss) { return }
            let copies = random.chance(conditions.duplication) ? 2 : 1
            for _ in 0..<copies {
                let jitter =
                    conditions.jitter.nanoseconds > 0
                    ? Int64.random(in: 0...conditions.jitter.nanoseconds, using: &random) : 0
                schedule(toServer: toServer, packet.encoded(), at: now + conditions.latency.nanoseconds + jitter)
            }
        }

        func deadline(_ d: NIODeadline) -> Int64 { Int64(d.uptimeNanoseconds) }
        var clock: NIODeadline { .uptimeNanoseconds(UInt64(now)) }

        func performClient(_ action: ClientTransfer.Action) {
            switch action {
            case .send(let packet, let d):
                transmit(packet, toServer: true)
                clientTimer = deadline(d)
            case .deliver(let payload, let ack, let d):
                if mode == .netascii {
                    received += decoder.decode(payload)
                } else {
                    received += Array(payload.readableBytesView)
                }
                if let ack { transmit(ack, toServer: true) }
                clientTimer = deadline(d)
            case .armTimer(let d):
                clientTimer = deadline(d)
            case .wait:
                break
            case .finish(_, let packet):
                if let packet { transmit(packet, toServer: true) }
                clientDone = true
                clientTimer = nil
            }
        }

        func performServer(_ action: ServerTransfer.Action) {
            switch action {
            case .send(let packet, let d):
                transmit(packet, toServer: false)
                serverTimer = deadline(d)
            case .sendWindow(let window, let d):
                for i in 0..<window.count {
                    let (number, offset, length) = window.block(i)
                    let payload = wire.getSlice(at: Int(offset), length: length)!
                    transmit(.data(block: number, payload: payload), toServer: false)
                }
                serverTimer = deadline(d)
            case .armTimer(let d):
                serverTimer = deadline(d)
            case .wait:
                break
            case .finish(_, let packet):
                if let packet { transmit(packet, toServer: false) }
                serverDone = true
                serverTimer = nil
            }
        }

        performClient(client.start(now: clock))
        var events = 0
        while events < eventLimit, !(clientDone && (serverDone || server == nil)) {
            events += 1
            let index = queue.indices.min { (queue[$0].at, queue[$0].seq) < (queue[$1].at, queue[$1].seq) }
            let deliveryAt = index.map { queue[$0].at } ?? .max
            let clientAt = clientDone ? .max : (clientTimer ?? .max)
            let serverAt = serverDone || server == nil ? .max : (serverTimer ?? .max)
            let earliest = min(deliveryAt, clientAt, serverAt)
            if earliest == .max { break }
            now = max(now, earliest)
            if earliest == deliveryAt, let index {
                let delivery = queue.remove(at: index)
                let decoded = Packet.decode(delivery.bytes)
                if delivery.toServer {
                    if server == nil, case .success(.readRequest(let request)) = decoded {
                        var machine = ServerTransfer(request: request, configuration: serverConfiguration)
                        let action = machine.start(content: .success(Int64(wire.readableBytes)), now: clock)
                        server = machine
                        performServer(action)
                    } else if case .success(.readRequest) = decoded {
                        // A repeated RRQ goes to the listening port, which ignores a
                        // client whose transfer runs (TransferTable's duplicate rule).
                        continue
                    } else if server != nil, !serverDone, case .success(let packet) = decoded {
                        performServer(server!.received(packet, now: clock))
                    }
                } else if !clientDone, case .success(let packet) = decoded {
                    performClient(client.received(packet, now: clock))
                }
            } else if earliest == clientAt {
                clientTimer = nil
                performClient(client.timerFired(now: clock))
            } else {
                serverTimer = nil
                performServer(server!.timerFired(now: clock))
            }
        }
        if mode == .netascii { received += decoder.finish() }
        return Result(
            client: client.outcome,
            server: server?.outcome,
            received: received,
            datagrams: datagrams,
            serverRetransmits: server?.statistics.retransmits ?? 0,
            elapsed: .nanoseconds(now)
        )
    }
}
