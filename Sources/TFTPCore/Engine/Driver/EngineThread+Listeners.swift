import CTFTPShims
import Glibc
import Logging
import NIOCore

/// An engine thread's listening sockets: reading request batches, refusals, and opening what
/// the core admitted (its content through the door, its socket).
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
            if new > 0 { settings.metrics.tftp.listenerDropped(Int(new)) }
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
                let decoded = Packet.decode(bytes)
                react(now: now) {
                    $0.listenerDatagram(decoded, from: source, listener: index, now: now, into: &$1)
                }
            }
            if count < Self.receiveBatch { return }
        }
    }

    /// The listener answers with the refusal's ERROR. Best effort: if the listener's send
    /// buffer is full the client's retransmitted request is answered instead.
    func refuse(_ refusal: RequestRefusal, client: PeerAddress, listener: Int) {
        settings.metrics.tftp.requestRejected(refusal.reason)
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

    /// A request the core admitted: open its content through the one door and its socket
    /// (unless the core handed one over), then the core starts it. A small file whose name
    /// alone says what it is comes from the thread's recent files when the door would open
    /// the very same, unchanged file (``RecentFiles``). Content still arriving from the
    /// origin whose size is not known yet parks the opening until it is
    /// (`EngineThread+Arrivals.swift`).
    func open(_ opening: TransferOpening<PeerAddress>, now: NIODeadline) {
        let client = opening.client
        let request = opening.request
        let map = settings.filenameMap
        let source = settings.content
        let requester = settings.namesDependOnClient ? client.requester : .unknown
        let content: Result<ContentReader, ContentError>
        switch Result(catching: { () throws(ContentError) in
            try RequestPath(try map.apply(request.filename, client: requester))
        })
        {
        case .failure(let error):
            content = .failure(error)
        case .success(let path):
            let byNameAlone = source.names.isPlain && !source.isScript(path)
            if byNameAlone, let kept = recentFiles.lookup(path, root: source.root) {
                content = .success(ContentReader.inMemory(kept.content, mode: request.mode))
                break
            }
            let served = Result { () throws(ContentError) -> BootContent.Served in
                let registry = source.machines?.registry
                return try source.open(path, client: requester) {
                    registry?.identity(address: client.ipv4Address) ?? MachineIdentity()
                }
            }
            switch served {
            case .failure(let error):
                content = .failure(error)
            case .success(.script(let bytes)):
                // The machine's own script (docs/machines.md), rendered for it.
                content = .success(ContentReader.inMemory(bytes, mode: request.mode))
            case .success(.file(let file)):
                content = Result { () throws(ContentError) in
                    try reader(file, keptAs: byNameAlone ? path : nil, mode: request.mode)
                }
            case .success(.cached(let file)):
                content = Result { () throws(ContentError) in try ContentReader.make(file, mode: request.mode) }
            case .success(.arriving(let arriving)):
                guard let ready = Self.reader(arriving, mode: request.mode) else {
                    return park(opening, on: arriving)
                }
                content = ready
            }
        }
        start(opening, content: content, now: now)
    }

    /// A file of the root for one transfer. One to be kept under `path`, small and with all
    /// its bytes in the page cache, is read whole now (one version by construction, the file
    /// closed at once) and kept; any other is read as the transfer goes.
    func reader(_ file: ContentFile, keptAs path: RequestPath?, mode: TransferMode) throws(ContentError)
        -> ContentReader
    {
        guard let path, let bytes = try file.copyIfCached(limit: RecentFiles<Void>.maxFileBytes) else {
            return try ContentReader.make(file, mode: mode)
        }
        recentFiles.insert(path, identity: file.identity, facts: (), content: bytes)
        return ContentReader.inMemory(bytes, mode: mode)
    }

    /// Starts an opening with its content (or why there is none): its socket, then the core.
    func start(_ opening: TransferOpening<PeerAddress>, content: Result<ContentReader, ContentError>, now: NIODeadline)
    {
        let client = opening.client
        let configuration = settings.transfer
        let socket: Result<TransferSocket, UDPSocket.Failure>
        if let given = opening.socket {
            socket = .success(given)
        } else {
            do {
                socket = .success(.own(try openTransferSocket(near: listeners[opening.listener].local)))
            } catch {
                settings.logger.error(
                    "cannot bind a transfer socket", metadata: ["client": "\(client.display)", "error": "\(error)"])
                socket = .failure(error)
            }
        }
        let reader = try? content.get()
        react(now: now) {
            $0.begin(
                opening, socket: socket, content: content.map { $0.size }, configuration: configuration, now: now,
                into: &$1)
        } prepare: { started in
            guard let started, case .success(let socket) = socket else { return }
            let descriptor: Int32
            let owns: Bool
            switch socket {
            case .own(let own): (descriptor, owns) = (own, true)
            case .listener(let index): (descriptor, owns) = (listeners[index].descriptor, false)
            }
            let slot = started.slot
            if slot >= io.count { io.append(contentsOf: repeatElement(nil, count: slot + 1 - io.count)) }
            io[slot] = EngineTransfer(
                slot: slot, generation: started.generation, descriptor: descriptor, ownsSocket: owns,
                listener: opening.listener, client: client, content: reader,
                segmentationOffload: UDPSocket.segmentationOffload, opened: now)
        }
    }

    /// The transfer's own socket on the listener's IP, in the thread's epoll set: a port the
    /// kernel picks, or a free one of `--port-range`, tried from a random start so that
    /// threads rarely collide.
    func openTransferSocket(near local: PeerAddress) throws(UDPSocket.Failure) -> Int32 {
        let socket = try UDPSocket.open(family: local.family)
        do throws(UDPSocket.Failure) {
            try bindTransferSocket(socket, near: local)
            guard ctftp_epoll_add(epoll, socket, EPOLLIN.rawValue, EpollTag.socket(socket).rawValue) == 0 else {
                throw UDPSocket.Failure(operation: "epoll_ctl", errno: errno)
            }
            return socket
        } catch {
            close(socket)
            throw error
        }
    }

    private func bindTransferSocket(_ socket: Int32, near local: PeerAddress) throws(UDPSocket.Failure) {
        guard let range = settings.portRange else {
            return try UDPSocket.bind(socket, to: local.with(port: 0))
        }
        let count = range.count
        let first = Int.random(in: 0..<count)
        var lastError = UDPSocket.Failure(operation: "bind", errno: EADDRINUSE)
        for step in 0..<count {
            do throws(UDPSocket.Failure) {
                return try UDPSocket.bind(
                    socket, to: local.with(port: UInt16(range.lowerBound + (first + step) % count)))
            } catch  where error.errno == EADDRINUSE || error.errno == EACCES {
                lastError = error
            }
        }
        throw lastError
    }
}
