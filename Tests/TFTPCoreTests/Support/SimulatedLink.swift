import NIOCore
import TFTPCore

/// A client and a server joined by a simulated link that drops, duplicates and reorders
/// datagrams, driven by a virtual clock. Both sides run through their pure endpoints
/// (``ClientEndpoint``, ``ServerEndpoint``: the transfer-ID rules) and every packet goes
/// through the real codec. A stranger may copy packets to either side's port, and the
/// server may be told to shut down. No sockets, no sleeps: thousands of transfers in seconds.
struct SimulatedLink {
    struct Conditions {
        var loss = 0.0
        var duplication = 0.0
        /// Extra random delay (0...jitter) per datagram, which reorders them.
        var jitter: TimeAmount = .zero
        var latency: TimeAmount = .microseconds(500)
        /// Chance that a stranger sends a copy of a datagram to the same port.
        var strangers = 0.0
        /// When the server begins a graceful shutdown, and the grace it gives.
        var shutdown: (at: TimeAmount, grace: TimeAmount)?
    }

    struct Result {
        var client: ClientTransfer.Outcome?
        var server: ServerTransfer.Outcome?
        var received: [UInt8]
        var datagrams: Int
        var serverRetransmits: Int
        var elapsed: TimeAmount
        /// Answers the stranger received (each must be ERROR 5).
        var strangerReplies: [Packet] = []
    }

    static let clientAddress = TestAddress("client", 1000)
    static let listenerAddress = TestAddress("server", 69)
    static let transferAddress = TestAddress("server", 5000)
    static let strangerAddress = TestAddress("intruder", 666)

    private struct Delivery {
        var at: Int64
        var seq: Int
        var from: TestAddress
        var to: TestAddress
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
        var client = ClientEndpoint(
            server: Self.listenerAddress,
            transfer: ClientTransfer(filename: Array("file".utf8), configuration: clientConfiguration))
        var server: ServerEndpoint<TestAddress>?
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
        var shutdownPending = conditions.shutdown
        var strangerReplies: [Packet] = []

        func schedule(_ bytes: ByteBuffer, from: TestAddress, to: TestAddress, at time: Int64) {
            seq += 1
            queue.append(Delivery(at: time, seq: seq, from: from, to: to, bytes: bytes))
        }

        func transmit(_ packet: Packet, from: TestAddress, to: TestAddress) {
            if to == Self.strangerAddress {
                strangerReplies.append(packet)
                return
            }
            datagrams += 1
            if random.chance(conditions.loss) { return }
            let copies = random.chance(conditions.duplication) ? 2 : 1
            for _ in 0..<copies {
                let jitter =
                    conditions.jitter.nanoseconds > 0
                    ? Int64.random(in: 0...conditions.jitter.nanoseconds, using: &random) : 0
                schedule(packet.encoded(), from: from, to: to, at: now + conditions.latency.nanoseconds + jitter)
            }
            if random.chance(conditions.strangers) {
                schedule(packet.encoded(), from: Self.strangerAddress, to: to, at: now + conditions.latency.nanoseconds)
            }
        }

        func deadline(_ d: NIODeadline) -> Int64 { Int64(d.uptimeNanoseconds) }
        var clock: NIODeadline { .uptimeNanoseconds(UInt64(now)) }

        func performClient(_ action: ClientTransfer.Action) {
            let to = client.destination
            switch action {
            case .send(let packet, let d):
                transmit(packet, from: Self.clientAddress, to: to)
                clientTimer = deadline(d)
            case .deliver(let payload, let ack, let d):
                if mode == .netascii {
                    received += decoder.decode(payload)
                } else {
                    received += Array(payload.readableBytesView)
                }
                if let ack { transmit(ack, from: Self.clientAddress, to: to) }
                clientTimer = deadline(d)
            case .armTimer(let d):
                clientTimer = deadline(d)
            case .wait:
                break
            case .finish(_, let packet):
                if let packet { transmit(packet, from: Self.clientAddress, to: to) }
                clientDone = true
                clientTimer = nil
            }
        }

        func performServer(_ action: ServerTransfer.Action) {
            guard let to = server?.client else { return }
            switch action {
            case .send(let packet, let d):
                transmit(packet, from: Self.transferAddress, to: to)
                serverTimer = deadline(d)
            case .sendWindow(let window, let d):
                for i in 0..<window.count {
                    let (number, offset, length) = window.block(i)
                    let payload = wire.getSlice(at: Int(offset), length: length)!
                    transmit(.data(block: number, payload: payload), from: Self.transferAddress, to: to)
                }
                serverTimer = deadline(d)
            case .armTimer(let d), .suspend(let d):
                serverTimer = deadline(d)
            case .wait:
                break
            case .finish(_, let packet):
                if let packet { transmit(packet, from: Self.transferAddress, to: to) }
                serverDone = true
                serverTimer = nil
            }
        }

        performClient(client.transfer.start(now: clock))
        var events = 0
        while events < eventLimit, !(clientDone && (serverDone || server == nil)) {
            events += 1
            let index = queue.indices.min { (queue[$0].at, queue[$0].seq) < (queue[$1].at, queue[$1].seq) }
            let deliveryAt = index.map { queue[$0].at } ?? .max
            let clientAt = clientDone ? .max : (clientTimer ?? .max)
            let serverAt = serverDone || server == nil ? .max : (serverTimer ?? .max)
            let shutdownAt = serverDone || server == nil ? .max : (shutdownPending?.at.nanoseconds ?? .max)
            let earliest = min(deliveryAt, clientAt, serverAt, shutdownAt)
            if earliest == .max { break }
            now = max(now, earliest)
            if earliest == shutdownAt, let (_, grace) = shutdownPending {
                shutdownPending = nil
                performServer(server!.transfer.beginShutdown(grace: grace, now: clock))
            } else if earliest == deliveryAt, let index {
                let delivery = queue.remove(at: index)
                let decoded = Packet.decode(delivery.bytes)
                switch delivery.to {
                case Self.listenerAddress:
                    // The listener's rules: an RRQ starts the transfer; a repeat from a client
                    // whose transfer runs goes to that transfer's machine, as the engine
                    // routes it (TransferTable's duplicate rule); once that transfer has
                    // ended, a request starts a new one. The stranger's copies are requests
                    // of their own that this test does not serve.
                    guard delivery.from == Self.clientAddress,
                        case .startTransfer(let request) = ListenerDecision.decide(decoded)
                    else { continue }
                    if server != nil, !serverDone {
                        performServer(server!.transfer.received(.readRequest(request), now: clock))
                        continue
                    }
                    serverDone = false
                    serverTimer = nil
                    var endpoint = ServerEndpoint(
                        client: delivery.from,
                        transfer: ServerTransfer(request: request, configuration: serverConfiguration))
                    let action = endpoint.transfer.start(content: .success(Int64(wire.readableBytes)), now: clock)
                    server = endpoint
                    performServer(action)
                case Self.transferAddress:
                    guard server != nil, !serverDone else { continue }
                    switch server!.received(decoded, from: delivery.from, now: clock) {
                    case .perform(let action): performServer(action)
                    case .reply(let packet, let to): transmit(packet, from: Self.transferAddress, to: to)
                    case .ignore: break
                    }
                default:
                    guard !clientDone else { continue }
                    switch client.received(decoded, from: delivery.from, now: clock) {
                    case .perform(let action): performClient(action)
                    case .reply(let packet, let to): transmit(packet, from: Self.clientAddress, to: to)
                    case .ignore: break
                    }
                }
            } else if earliest == clientAt {
                clientTimer = nil
                performClient(client.transfer.timerFired(now: clock))
            } else {
                serverTimer = nil
                performServer(server!.transfer.timerFired(now: clock))
            }
        }
        if mode == .netascii { received += decoder.finish() }
        return Result(
            client: client.transfer.outcome,
            server: server?.transfer.outcome,
            received: received,
            datagrams: datagrams,
            serverRetransmits: server?.transfer.statistics.retransmits ?? 0,
            elapsed: .nanoseconds(now),
            strangerReplies: strangerReplies
        )
    }
}
