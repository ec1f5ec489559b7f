import CTFTPShims
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An engine thread's listening sockets: reading request batches, admission, refusals, and
/// starting a transfer (opening its content through the door, taking its socket).
extension EngineThread {
    /// Adds what the kernel dropped at the listeners since the last look to the metric; at
    /// most once a second, and once more after the listeners were last read.
    func countListenerDrops(now: UInt64) {
        listenersReadSinceCheck = false
        dropsCheckedAt = now
        for index in listeners.indices {
            guard let drops = UDPSocket.drops(listeners[index].descriptor) else { continue }
            let new = drops &- listenerDrops[index]
            listenerDrops[index] = drops
            if new > 0 { settings.metrics.listenerDropped(Int(new)) }
        }
    }

    func readListener(_ index: Int, now: NIODeadline) {
        listenersReadSinceCheck = true
        let descriptor = listeners[index].descriptor
        // A few batches per turn at most, so one busy listener cannot starve the transfers;
        // epoll is level-triggered and reports the rest next turn.
        for _ in 0..<4 {
            let count = ctftp_receive_batch(
                descriptor, receiveBuffer, Self.receiveSlotBytes, UInt32(Self.receiveBatch), receivedLengths, sources,
                sourceLengths)
            guard count > 0 else { return }
            for message in 0..<Int(count) {
                let bytes = UnsafeRawBufferPointer(
                    start: receiveBuffer + message * Self.receiveSlotBytes, count: receivedLengths[message])
                guard let source = PeerAddress(sources + message, length: sourceLengths[message]),
                    source.isAcceptableClient
                else { continue }
                listenerDatagram(bytes, from: source, listener: index, now: now)
            }
            if count < Self.receiveBatch { return }
        }
    }

    func listenerDatagram(
        _ bytes: UnsafeRawBufferPointer, from source: PeerAddress, listener: Int, now: NIODeadline
    ) {
        if settings.singlePort, let slot = routes[source], let transfer = slots[slot], !transfer.lingering {
            let decoded = Packet.decode(bytes)
            // A request from the client goes through admission, as in the normal mode: a
            // repeat reaches the transfer there, another request ends a suspended one.
            guard case .success(.readRequest) = decoded else {
                return deliver(decoded, from: source, to: transfer, now: now)
            }
        }
        switch ListenerDecision.decide(Packet.decode(bytes)) {
        case .ignore:
            settings.logger.debug("ignored datagram", metadata: ["client": "\(source.display)"])
        case .refuse(let refusal):
            refuse(refusal, client: source, listener: listener)
        case .startTransfer(let request):
            admit(request, from: source, listener: listener, now: now, drained: false)
        }
    }

    /// Admission of a request. A client's address and port that still has a transfer here
    /// is a repeat, unless that transfer has just ended: a client that reuses its port at
    /// once (the kernel may hand the same ephemeral port to its next socket) sent its last
    /// ACK before its new request, but the two wait on different sockets. So the running
    /// transfer's socket is read first, and the request is judged after that, as the
    /// client sent them. A repeat goes to the transfer's machine (before the client has
    /// acknowledged anything it answers it again). A suspended transfer holds no slot: the
    /// same request is its repeat; another one ends it and is admitted.
    func admit(_ request: Request, from source: PeerAddress, listener: Int, now: NIODeadline, drained: Bool) {
        if let slot = routes[source], let transfer = slots[slot], transfer.suspended {
            if request == transfer.endpoint.transfer.request {
                return deliver(.success(.readRequest(request)), from: source, to: transfer, now: now)
            }
            perform(transfer.endpoint.transfer.endSuspension(), for: transfer, now: now)
        }
        switch registry.admit(source) {
        case .admitted:
            start(request, client: source, listener: listener, now: now)
        case .duplicate:
            if !drained, let slot = routes[source], let transfer = slots[slot], transfer.ownsSocket {
                drain(transfer, now: now)
                if slots[slot] !== transfer {
                    return admit(request, from: source, listener: listener, now: now, drained: true)
                }
            }
            settings.logger.debug("repeated request", metadata: ["client": "\(source.display)"])
            if let slot = routes[source], let transfer = slots[slot], !transfer.lingering {
                deliver(.success(.readRequest(request)), from: source, to: transfer, now: now)
            }
        case .refused(let refusal):
            refuse(refusal, client: source, listener: listener)
        }
    }

    /// Reads what waits on a transfer's socket (a few datagrams at most).
    func drain(_ transfer: EngineTransfer, now: NIODeadline) {
        for _ in 0..<8 {
            guard slots[transfer.slot] === transfer, readTransfer(transfer, now: now) else { return }
        }
    }

    /// The listener answers with the refusal's ERROR. Best effort: if the listener's send
    /// buffer is full the client's retransmitted request is answered instead.
    func refuse(_ refusal: RequestRefusal, client: PeerAddress, listener: Int) {
        settings.metrics.requestRejected(refusal.reason)
        settings.board?.refused(refusal, client: client)
        let level: Logger.Level
        switch refusal {
        case .busy, .perClientLimit, .noTransferPort: level = .notice
        case .shuttingDown: level = .debug
        case .writeRequest, .malformed: level = .info
        }
        settings.logger.log(
            level: level, "refused request", metadata: ["client": "\(client.display)", "reason": "\(refusal.reason)"])
        _ = sendControl(refusal.reply, to: client, on: listeners[listener].descriptor)
    }

    /// An admitted request: open the content through the one door, bind the transfer's
    /// socket (or route the client in single-port mode), and start the machine.
    func start(_ request: Request, client: PeerAddress, listener: Int, now: NIODeadline) {
        let map = settings.filenameMap
        let resolver = settings.nameResolver
        let root = settings.root
        let requester = settings.namesDependOnClient ? client.requester : .unknown
        let content = Result { () throws(ContentError) -> ContentReader in
            let path = try RequestPath(try map.apply(request.filename, client: requester))
            return try ContentReader.make(try resolver.open(path, client: requester, in: root), mode: request.mode)
        }
        var configuration = settings.transfer
        if let mtu = listeners[listener].mtu {
            configuration.limits.maxBlockSize = min(
                configuration.limits.maxBlockSize, InterfaceMTU.blockSize(mtu: mtu, client: client))
        }
        let socket: Int32
        var pooled = false
        if settings.singlePort {
            socket = listeners[listener].descriptor
        } else if let reused = pool.take(listener: listener, now: now.uptimeNanoseconds) {
            socket = reused
            pooled = true
        } else {
            do {
                socket = try openTransferSocket(near: listeners[listener].local)
            } catch {
                registry.release(client)
                settings.logger.error(
                    "cannot bind a transfer socket", metadata: ["client": "\(client.display)", "error": "\(error)"])
                return refuse(.noTransferPort, client: client, listener: listener)
            }
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
        }
        let transfer = EngineTransfer(
            slot: slot, generation: nextGeneration, socket: socket, ownsSocket: !settings.singlePort,
            listener: listener,
            endpoint: ServerEndpoint(
                client: client, transfer: ServerTransfer(request: request, configuration: configuration)),
            content: try? content.get(), started: now, segmentationOffload: UDPSocket.segmentationOffload)
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        slots[slot] = transfer
        routes[client] = slot
        if !settings.singlePort {
            // A pooled socket is registered already; a new one is added.
            setOwner(of: socket, to: slot)
            if !pooled, ctftp_epoll_add(epoll, socket, EPOLLIN.rawValue, UInt64(socket)) != 0 {
                return socketFailed(transfer, errno: errno, now: now)
            }
        }
        perform(transfer.endpoint.transfer.start(content: content.map(\.size), now: now), for: transfer, now: now)
    }

    /// The transfer's own socket on the listener's IP: a port the kernel picks, or a free
    /// one of `--port-range`, tried from a random start so that threads rarely collide.
    func openTransferSocket(near local: PeerAddress) throws(UDPSocket.Failure) -> Int32 {
        let socket = try UDPSocket.open(family: local.family)
        do throws(UDPSocket.Failure) {
            if let range = settings.portRange {
                let count = range.count
                let first = Int.random(in: 0..<count)
                var lastError = UDPSocket.Failure(operation: "bind", errno: EADDRINUSE)
                for step in 0..<count {
                    do throws(UDPSocket.Failure) {
                        try UDPSocket.bind(
                            socket, to: local.with(port: UInt16(range.lowerBound + (first + step) % count)))
                        return socket
                    } catch  where error.errno == EADDRINUSE || error.errno == EACCES {
                        lastError = error
                    }
                }
                throw lastError
            }
            try UDPSocket.bind(socket, to: local.with(port: 0))
            return socket
        } catch {
            close(socket)
            throw error
        }
    }
}
