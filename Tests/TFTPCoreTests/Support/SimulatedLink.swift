import NIOCore

@testable import TFTPCore

/// A client and a server joined by a simulated link that drops, duplicates and reorders
/// datagrams, driven by a virtual clock. The client runs through its pure endpoint
/// (``ClientEndpoint``); the server is the engine's own ``EngineCore`` (listening port,
/// admission, repeats, transfer IDs, suspension, timers), whose effects this link performs
/// on its virtual network as ``EngineThread`` performs them on sockets. Every packet goes
/// through the real codec. A stranger may copy packets to either side's transfer port, and
/// the server may be told to shut down. No sockets, no sleeps: thousands of transfers in
/// seconds.
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
        /// How the server's last transfer ended.
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
    static let strangerAddress = TestAddress("intruder", 666)
    /// Transfer sockets are numbered from here; a socket's port is its number.
    static let firstTransferPort: Int32 = 5000

    private struct Delivery {
        var at: Int64
        var seq: Int
        var from: TestAddress
        var to: TestAddress
        var bytes: ByteBuffer
    }

    typealias Core = EngineCore<TestAddress, LocalAdmission<TestAddress>>

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
        var core = Core(
            listeners: 1, singlePort: false, suspendedLimit: 512, poolCapacity: 16, admission: LocalAdmission())
        let wire = mode == .netascii ? NetASCII.encode(ByteBuffer(bytes: content)) : ByteBuffer(bytes: content)
        var received: [UInt8] = []
        var decoder = NetASCII.Decoder()
        var queue: [Delivery] = []
        var seq = 0
        var now: Int64 = 0
        var clientTimer: Int64?
        var datagrams = 0
        var clientDone = false
        var serverOutcome: ServerTransfer.Outcome?
        var serverRetransmits = 0
        var shutdownPending = conditions.shutdown
        var strangerReplies: [Packet] = []
        var nextPort = Self.firstTransferPort

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
            // The stranger copies what goes to a transfer's port; a request of its own to the
            // listening port would be a transfer of its own, which this test does not serve.
            if to != Self.listenerAddress, random.chance(conditions.strangers) {
                schedule(packet.encoded(), from: Self.strangerAddress, to: to, at: now + conditions.latency.nanoseconds)
            }
        }

        func deadline(_ d: NIODeadline) -> Int64 { Int64(d.uptimeNanoseconds) }
        var clock: NIODeadline { .uptimeNanoseconds(UInt64(now)) }

        func socketAddress(_ slot: Int) -> TestAddress {
            guard case .own(let port)? = core[slot]?.socket else { return Self.listenerAddress }
            return TestAddress("server", Int(port))
        }

        /// Performs the core's effects on the virtual network, as the engine thread does.
        func perform(_ effects: [Core.Effect]) {
            for effect in effects {
                var more: [Core.Effect] = []
                switch effect {
                case .refuse(let refusal, let to, _):
                    transmit(refusal.reply, from: Self.listenerAddress, to: to)
                case .open(let opening):
                    let socket: TransferSocket
                    if let given = opening.socket {
                        socket = given
                    } else {
                        socket = .own(nextPort)
                        nextPort += 1
                    }
                    core.begin(
                        opening, socket: .success(socket), content: .success(Int64(wire.readableBytes)),
                        configuration: serverConfiguration, now: clock, into: &more)
                case .drain(let slot):
                    // What has reached the transfer's port by now is read first.
                    let port = socketAddress(slot)
                    while let index = queue.indices.filter({ queue[$0].to == port && queue[$0].at <= now })
                        .min(by: { queue[$0].seq < queue[$1].seq })
                    {
                        let delivery = queue.remove(at: index)
                        core.transferDatagram(
                            slot: slot, Packet.decode(delivery.bytes), from: delivery.from, now: clock, into: &more)
                        perform(more)
                        more.removeAll()
                        guard core[slot] != nil else { break }
                    }
                    core.drained(now: clock, into: &more)
                case .send(let slot, let packet):
                    transmit(packet, from: socketAddress(slot), to: core[slot]!.client)
                case .reply(let slot, let packet, let to):
                    transmit(packet, from: socketAddress(slot), to: to)
                case .sendWindow(let slot, let window):
                    let from = socketAddress(slot)
                    for i in 0..<window.count {
                        let (number, offset, length) = window.block(i)
                        let payload = wire.getSlice(at: Int(offset), length: length)!
                        transmit(.data(block: number, payload: payload), from: from, to: core[slot]!.client)
                    }
                case .ended(let ending):
                    serverOutcome = ending.outcome
                    serverRetransmits = ending.statistics.retransmits
                    if let packet = ending.finalPacket {
                        let from: TestAddress
                        switch ending.socket {
                        case .own(let port): from = TestAddress("server", Int(port))
                        case .listener: from = Self.listenerAddress
                        }
                        transmit(packet, from: from, to: ending.client)
                    }
                case .suspended, .close, .note, .handOver:
                    // One core: nothing is ever handed to another thread.
                    break
                }
                perform(more)
            }
        }

        func serve(_ body: (inout Core, inout [Core.Effect]) -> Void) {
            var effects: [Core.Effect] = []
            body(&core, &effects)
            perform(effects)
        }

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

        performClient(client.transfer.start(now: clock))
        var events = 0
        while events < eventLimit, !(clientDone && core.count == 0) {
            events += 1
            let index = queue.indices.min { (queue[$0].at, queue[$0].seq) < (queue[$1].at, queue[$1].seq) }
            let deliveryAt = index.map { queue[$0].at } ?? .max
            let clientAt = clientDone ? .max : (clientTimer ?? .max)
            let serverAt = core.nextDeadline.map { Int64($0) } ?? .max
            let shutdownAt = core.count == 0 ? .max : (shutdownPending?.at.nanoseconds ?? .max)
            let earliest = min(deliveryAt, clientAt, serverAt, shutdownAt)
            if earliest == .max { break }
            now = max(now, earliest)
            if earliest == shutdownAt, let (_, grace) = shutdownPending {
                shutdownPending = nil
                serve { $0.beginShutdown(grace: grace, now: clock, into: &$1) }
            } else if earliest == deliveryAt, let index {
                let delivery = queue.remove(at: index)
                let decoded = Packet.decode(delivery.bytes)
                switch delivery.to {
                case Self.listenerAddress:
                    serve { $0.listenerDatagram(decoded, from: delivery.from, listener: 0, now: clock, into: &$1) }
                case Self.clientAddress:
                    guard !clientDone else { continue }
                    switch client.received(decoded, from: delivery.from, now: clock) {
                    case .perform(let action): performClient(action)
                    case .reply(let packet, let to): transmit(packet, from: Self.clientAddress, to: to)
                    case .ignore: break
                    }
                default:
                    // A transfer's port: its owner gets it; a port no transfer owns drops it.
                    guard let slot = core.owner(ofSocket: Int32(delivery.to.port)) else { continue }
                    serve { $0.transferDatagram(slot: slot, decoded, from: delivery.from, now: clock, into: &$1) }
                }
            } else if earliest == clientAt {
                clientTimer = nil
                performClient(client.transfer.timerFired(now: clock))
            } else {
                serve { $0.fireTimers(now: clock, into: &$1) }
            }
        }
        if mode == .netascii { received += decoder.finish() }
        return Result(
            client: client.transfer.outcome,
            server: serverOutcome,
            received: received,
            datagrams: datagrams,
            serverRetransmits: serverRetransmits,
            elapsed: .nanoseconds(now),
            strangerReplies: strangerReplies
        )
    }
}
