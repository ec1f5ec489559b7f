import NIOCore

/// The listening port and admission: what a datagram there means, and whether a request is
/// new, a repeat of the client's running request, or the end of it.
extension EngineCore {
    /// A datagram on listener `listener` from `source` (an acceptable client address: the
    /// driver drops port 0, broadcast and multicast sources unread).
    ///
    /// In single-port mode the listener is every transfer's socket too: a datagram from a
    /// client with a transfer here goes to that transfer, except a request, which goes
    /// through admission like any other (a repeat reaches the transfer there).
    mutating func listenerDatagram(
        _ decoded: Result<Packet, PacketDecodingError>, from source: Address, listener: Int, now: NIODeadline,
        into effects: inout [Effect]
    ) {
        if singlePort, let slot = routes[source] {
            guard case .success(.readRequest) = decoded else {
                return transferDatagram(slot: slot, decoded, from: source, now: now, into: &effects)
            }
        }
        switch ListenerDecision.decide(decoded) {
        case .ignore:
            effects.append(.note(.notARequest, client: source))
        case .refuse(let refusal):
            effects.append(.refuse(refusal, client: source, listener: listener))
        case .startTransfer(let request):
            self.request(request, from: source, listener: listener, now: now, into: &effects)
        }
    }

    /// A read request from `client`, judged against the transfer that client's address and
    /// port already has here (docs/protocol.md, "Transfer IDs and repeated requests"):
    ///
    /// - None: admission (limits, shutdown); an admitted request is opened by the driver
    ///   (``EngineEffect/open(_:)``), with an idle socket from the pool when one has served
    ///   out its quarantine.
    /// - A running transfer with a socket of its own: its socket is read first
    ///   (``EngineEffect/drain(slot:)``; the core keeps the request meanwhile and judges it
    ///   when the driver says the socket is read, ``drained(now:into:)``), as the client sent
    ///   them. A client's kernel may hand the port of its finished transfer to its very next
    ///   socket: the last ACK then waits on the old transfer's socket while the new request
    ///   waits on the listener.
    /// - Then the transfer's machine judges it (``ServerTransfer/judge(_:)``):
    ///   - the same request before the client acknowledged anything is a repeat (the
    ///     client's timer fired before our first answer came): it goes to the machine, which
    ///     answers it with the first packet again; a suspended transfer takes a place again
    ///     for that (see ``transferDatagram(slot:_:from:now:into:)``);
    ///   - another request before the client acknowledged anything: the client has moved on
    ///     (a new process on a reused port, a client that gave up), so that transfer ends,
    ///     silently, as superseded, and the request is admitted like a new one. Otherwise it
    ///     would go unanswered until the old transfer gave up, and its client would take the
    ///     old transfer's retransmitted first packet for its answer: the wrong file;
    ///   - the same request once only the first packet was acknowledged: the network's late
    ///     copy of the request that started the transfer; nothing happens;
    ///   - any request once the client has acknowledged the transfer: a new transfer beside
    ///     it, from another transfer ID, as RFC 1350 gives every request (the client
    ///     restarted, or someone guessed its port: either way the transfer it acknowledged
    ///     is not ended by one datagram). In single-port mode two transfers to one client
    ///     address and port could not be told apart, so the request is ignored there while
    ///     the acknowledged transfer runs.
    ///
    /// A request of a client whose transfer runs on another engine thread (the engine moved
    /// between one thread and all while it ran, and the kernel steered this request
    /// elsewhere) is handed to that thread (``EngineEffect/handOver(_:thread:)``), which judges
    /// it the same way; only the thread that runs a transfer can tell a repeat from a request
    /// that supersedes it.
    mutating func request(
        _ request: Request, from client: Address, listener: Int, now: NIODeadline, into effects: inout [Effect]
    ) {
        self.request(request, from: client, listener: listener, handedOver: false, now: now, into: &effects)
    }

    /// A request another engine thread handed here (it reached that thread's listener
    /// `listener`, the same address as this thread's): judged as if it had come here. It is
    /// never handed on again: should the client's transfer have moved meanwhile, it goes
    /// unanswered, as a lost datagram would, and the client asks again.
    mutating func handedOver(
        _ request: Request, from client: Address, listener: Int, now: NIODeadline, into effects: inout [Effect]
    ) {
        self.request(request, from: client, listener: listener, handedOver: true, now: now, into: &effects)
    }

    private mutating func request(
        _ request: Request, from client: Address, listener: Int, handedOver: Bool, now: NIODeadline,
        into effects: inout [Effect]
    ) {
        if let slot = routes[client], let running = self[slot], !running.isSuspended, case .own = running.socket {
            startDraining(
                Draining(slot: slot, request: request, client: client, listener: listener, handedOver: handedOver))
            effects.append(.drain(slot: slot))
            return
        }
        judge(request, from: client, listener: listener, handedOver: handedOver, now: now, into: &effects)
    }

    /// The driver has read what waited on the socket the last ``EngineEffect/drain(slot:)``
    /// named (each datagram handed to ``transferDatagram(slot:_:from:now:into:)``): the
    /// request that waited is judged now.
    mutating func drained(now: NIODeadline, into effects: inout [Effect]) {
        guard let waiting = finishDraining() else { return }
        judge(
            waiting.request, from: waiting.client, listener: waiting.listener, handedOver: waiting.handedOver, now: now,
            into: &effects)
    }

    /// The request against the client port's transfer here, if any, once its socket is read.
    private mutating func judge(
        _ request: Request, from client: Address, listener: Int, handedOver: Bool, now: NIODeadline,
        into effects: inout [Effect]
    ) {
        var kind = AdmissionKind.new
        if let slot = routes[client], let running = self[slot] {
            switch running.endpoint.transfer.judge(request) {
            case .repeated:
                effects.append(.note(.repeatedRequest, client: client))
                return transferDatagram(
                    slot: slot, .success(.readRequest(request)), from: client, now: now, into: &effects)
            case .lateCopy:
                effects.append(.note(.repeatedRequest, client: client))
                return
            case .supersedes:
                apply(running.endpoint.transfer.supersede(), slot: slot, now: now, into: &effects)
            case .beside:
                guard !singlePort else {
                    effects.append(.note(.acknowledgedTransferRuns, client: client))
                    return
                }
                kind = .beside
            }
        }
        switch admission.admit(client, as: kind, thread: thread) {
        case .admitted:
            let socket: TransferSocket? =
                singlePort ? .listener(listener) : takeIdleSocket(listener: listener, now: now).map { .own($0) }
            openingIssued()
            effects.append(.open(TransferOpening(client: client, request: request, listener: listener, socket: socket)))
        case .duplicate(let owner):
            if owner != thread, !handedOver {
                effects.append(
                    .handOver(TransferOpening(client: client, request: request, listener: listener), thread: owner))
            } else {
                // Handed over already, or a place this thread took whose opening is not begun.
                effects.append(.note(.runningElsewhere, client: client))
            }
        case .refused(let refusal):
            effects.append(.refuse(refusal, client: client, listener: listener))
        }
    }

    /// The driver opened what ``EngineEffect/open(_:)`` asked for: the transfer starts in a
    /// free slot (its machine refuses at once if the content could not be opened: the ERROR
    /// goes from its socket, docs/protocol.md, "Names and paths"), with blocks no larger than
    /// its listener's link carries (``configuration(_:listener:client:)``). Without a socket
    /// the request is refused from the listener and its place given back. Returns the slot
    /// and its generation, so the driver can set up its own record before it performs the
    /// effects (which may already end the transfer: a refusal).
    @discardableResult
    mutating func begin(
        _ opening: TransferOpening<Address>, socket: Result<TransferSocket, UDPSocket.Failure>,
        content: Result<Int64, ContentError>, configuration: ServerTransfer.Configuration, now: NIODeadline,
        into effects: inout [Effect]
    ) -> (slot: Int, generation: UInt32)? {
        openingSettled()
        guard case .success(let socket) = socket else {
            admission.release(opening.client)
            effects.append(.refuse(.noTransferPort, client: opening.client, listener: opening.listener))
            return nil
        }
        let generation = nextGeneration()
        let configuration = self.configuration(configuration, listener: opening.listener, client: opening.client)
        let transfer = RoutedTransfer(
            endpoint: ServerEndpoint(
                client: opening.client, transfer: ServerTransfer(request: opening.request, configuration: configuration)
            ),
            generation: generation, socket: socket, listener: opening.listener, started: now, phase: .running)
        let slot = insert(transfer)
        apply(transfer.endpoint.transfer.start(content: content, now: now), slot: slot, now: now, into: &effects)
        return (slot, generation)
    }

    /// A transfer's limits on its listener: no block larger than one datagram the link
    /// carries unfragmented (docs/operations.md, "Block size and the MTU"; PXE ROMs and
    /// U-Boot handle IP fragments badly or not at all): the MTU less the IP header (20 bytes,
    /// 40 for IPv6), UDP's 8 and the DATA header's 4.
    func configuration(_ base: ServerTransfer.Configuration, listener: Int, client: Address)
        -> ServerTransfer.Configuration
    {
        guard listener < listenerMTUs.count, let mtu = listenerMTUs[listener] else { return base }
        var configuration = base
        configuration.limits.maxBlockSize = min(
            base.limits.maxBlockSize, Self.blockSize(mtu: mtu, ipv6: client.isNativeIPv6))
        return configuration
    }

    /// The largest blksize that fits `mtu`, within RFC 2348's 8 ... 65464.
    static func blockSize(mtu: Int, ipv6: Bool) -> Int {
        min(NegotiatedOptions.maxBlockSize, max(NegotiatedOptions.minBlockSize, mtu - (ipv6 ? 40 : 20) - 8 - 4))
    }
}
