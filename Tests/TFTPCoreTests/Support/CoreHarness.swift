import NIOCore

@testable import TFTPCore

/// An ``EngineCore`` with the smallest driver: it opens every admitted request (a fresh
/// socket numbered from 100 unless the core hands one over, content of ``contentSize``
/// bytes), drains a transfer's socket from ``waiting`` when asked, and records every effect.
/// Time is virtual and moves only when a test says so.
struct CoreHarness {
    typealias Core = EngineCore<TestAddress, LocalAdmission<TestAddress>>
    typealias Effect = Core.Effect

    /// The core is not copyable; the harness holds it in a box, so a copy of the harness
    /// shares it (as tests expect of a fixture).
    final class Box {
        var core: Core
        init(_ core: consuming Core) { self.core = core }
    }

    let box: Box
    var core: Core {
        _read { yield box.core }
        nonmutating _modify { yield &box.core }
    }
    let admission: LocalAdmission<TestAddress>
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var nextSocket: Int32 = 100
    var contentSize: Int64 = 100_000
    var content: Result<Int64, ContentError>?
    var configuration = ServerTransfer.Configuration()
    /// The next socket the driver binds fails.
    var bindFails = false
    /// Datagrams waiting on a transfer socket (by descriptor), read when the core asks for
    /// a drain.
    var waiting: [Int32: [(Packet, TestAddress)]] = [:]

    static let listener = TestAddress("server", 69)

    /// `sharing`: the admission of another harness, as two engine threads of one server
    /// share theirs; `thread`: which thread this core decides for.
    init(
        singlePort: Bool = false, suspendedLimit: Int = 512, poolCapacity: Int = 8, maxTransfers: Int = 1000,
        maxPerClient: Int = .max, listenerMTU: Int? = nil, sharing: LocalAdmission<TestAddress>? = nil,
        thread: Int = 0
    ) {
        admission = sharing ?? LocalAdmission(maxTransfers: maxTransfers, maxPerClient: maxPerClient)
        box = Box(
            Core(
                listeners: 1, singlePort: singlePort, suspendedLimit: suspendedLimit, poolCapacity: poolCapacity,
                listenerMTUs: [listenerMTU], admission: admission, thread: thread))
    }

    // MARK: - Events

    /// A datagram on the listening port; returns every effect it led to, in order.
    @discardableResult
    mutating func listener(_ packet: Packet, from client: TestAddress) -> [Effect] {
        listener(.success(packet), from: client)
    }

    @discardableResult
    mutating func listener(_ decoded: Result<Packet, PacketDecodingError>, from client: TestAddress) -> [Effect] {
        let now = now
        return serve { $0.listenerDatagram(decoded, from: client, listener: 0, now: now, into: &$1) }
    }

    /// A request another engine thread handed over (it reached that thread's listener 0).
    @discardableResult
    mutating func handedOver(_ request: Request, from client: TestAddress) -> [Effect] {
        let now = now
        return serve { $0.handedOver(request, from: client, listener: 0, now: now, into: &$1) }
    }

    /// A datagram on the transfer socket `socket`.
    @discardableResult
    mutating func transfer(_ packet: Packet, to socket: Int32, from source: TestAddress) -> [Effect] {
        guard let slot = core.owner(ofSocket: socket) else { return [] }
        let now = now
        return serve { $0.transferDatagram(slot: slot, .success(packet), from: source, now: now, into: &$1) }
    }

    /// Moves the clock on by `amount` and fires what is due.
    @discardableResult
    mutating func advance(_ amount: TimeAmount) -> [Effect] {
        now = now + amount
        let now = now
        return serve { $0.fireTimers(now: now, into: &$1) }
    }

    /// Fires deadlines one at a time until `limit` has passed.
    @discardableResult
    mutating func run(for limit: TimeAmount) -> [Effect] {
        let end = now + limit
        var all: [Effect] = []
        while let next = core.nextDeadline, next <= end.uptimeNanoseconds {
            now = .uptimeNanoseconds(max(next, now.uptimeNanoseconds))
            let now = now
            all += serve { $0.fireTimers(now: now, into: &$1) }
        }
        now = end
        return all
    }

    /// Runs `body` on the core and performs its effects as a driver would.
    mutating func serve(_ body: (inout Core, inout [Effect]) -> Void) -> [Effect] {
        var effects: [Effect] = []
        body(&core, &effects)
        return perform(effects)
    }

    private mutating func perform(_ effects: [Effect]) -> [Effect] {
        var all: [Effect] = []
        for effect in effects {
            all.append(effect)
            var more: [Effect] = []
            let now = now
            switch effect {
            case .open(let opening):
                let socket: Result<TransferSocket, UDPSocket.Failure>
                if let given = opening.socket {
                    socket = .success(given)
                } else if bindFails {
                    bindFails = false
                    socket = .failure(UDPSocket.Failure(operation: "bind", errno: 98))
                } else {
                    socket = .success(.own(nextSocket))
                    nextSocket += 1
                }
                let content = content ?? .success(contentSize)
                let configuration = configuration
                core.begin(
                    opening, socket: socket, content: content, configuration: configuration, now: now, into: &more)
            case .drain(let slot):
                if case .own(let socket)? = core[slot]?.socket {
                    for (packet, source) in waiting.removeValue(forKey: socket) ?? [] where core[slot] != nil {
                        var read: [Effect] = []
                        core.transferDatagram(slot: slot, .success(packet), from: source, now: now, into: &read)
                        all += perform(read)
                    }
                }
                core.drained(now: now, into: &more)
            default:
                break
            }
            all += perform(more)
        }
        return all
    }

    // MARK: - Reading effects

    /// The socket of the transfer that `client` runs now.
    func socket(of client: TestAddress) -> Int32? {
        guard let slot = core.routes[client], case .own(let socket)? = core[slot]?.socket else { return nil }
        return socket
    }

    func slot(of client: TestAddress) -> Int? { core.routes[client] }

    func isSuspended(_ client: TestAddress) -> Bool {
        slot(of: client).flatMap { core[$0]?.isSuspended } ?? false
    }
}

extension Array where Element == CoreHarness.Effect {
    /// The first blocks of the windows sent, in order.
    var windows: [UInt64] {
        compactMap { if case .sendWindow(_, let window) = $0 { window.first } else { nil } }
    }

    /// The control packets sent to clients (OACKs), in order.
    var sentPackets: [Packet] {
        compactMap { if case .send(_, let packet) = $0 { packet } else { nil } }
    }

    var endings: [TransferEnding<TestAddress>] {
        compactMap { if case .ended(let ending) = $0 { ending } else { nil } }
    }

    var openings: [TransferOpening<TestAddress>] {
        compactMap { if case .open(let opening) = $0 { opening } else { nil } }
    }

    /// The requests handed to other threads, with the thread each went to.
    var handOvers: [(request: Request, thread: Int)] {
        compactMap { if case .handOver(let opening, let thread) = $0 { (opening.request, thread) } else { nil } }
    }

    var refusals: [RequestRefusal] {
        compactMap { if case .refuse(let refusal, _, _) = $0 { refusal } else { nil } }
    }

    var suspensions: Int { filter { if case .suspended = $0 { true } else { false } }.count }
}
