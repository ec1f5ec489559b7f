import NIOCore

/// An engine thread's transfers of files still arriving from the origin (docs/fleet.md, "A
/// cold file"). Nothing here waits: an opening whose file's size is not known yet is parked
/// (its place in admission held) until the origin's headers come; a window whose bytes have
/// not landed waits in ``EngineTransfer/Sending/awaiting(_:)``. The file tells the thread of
/// each change through its mailbox (`arrived`), and the thread looks at everything that waits.
extension EngineThread {
    /// An admitted request whose content is on its way, begun once its size is known.
    struct ParkedOpening {
        var opening: TransferOpening<PeerAddress>
        var arriving: ArrivingFile
    }

    /// What a transfer reads from an arriving file now, or nil while it must wait: the size
    /// must be known (the OACK carries it), and a netascii transfer, encoded whole in memory,
    /// needs the whole file.
    static func reader(_ arriving: ArrivingFile, mode: TransferMode) -> Result<ContentReader, ContentError>? {
        switch arriving.state {
        case .waiting:
            return nil
        case .failed(let error):
            return .failure(error)
        case .complete(let file):
            return Result { () throws(ContentError) in try ContentReader.make(file, mode: mode) }
        case .arriving(_, let size, _):
            guard mode == .octet, let size else { return nil }
            return .success(.arriving(arriving, size: size))
        }
    }

    /// Holds `opening` until its file's size is known.
    func park(_ opening: TransferOpening<PeerAddress>, on arriving: ArrivingFile) {
        parkedOpenings.append(ParkedOpening(opening: opening, arriving: arriving))
        watch(arriving)
    }

    /// The transfer's window waits for its bytes to land.
    func waitForArrival(_ window: ServerTransfer.DataWindow, of arriving: ArrivingFile, for transfer: EngineTransfer) {
        transfer.sending = .awaiting(window)
        awaitingArrival.append(transfer.slot)
        watch(arriving)
    }

    /// Asks `arriving` to tell this thread of its changes, once per file.
    private func watch(_ arriving: ArrivingFile) {
        let key = ObjectIdentifier(arriving)
        guard watchedArrivals[key] == nil else { return }
        let mailbox = mailbox
        watchedArrivals[key] = arriving
        arriving.observe { mailbox.post(.arrived) }
    }

    /// A file the thread watches changed: parked openings whose size is known now begin,
    /// windows whose bytes have landed go, and failures end what waited on them.
    func arrivalsChanged(now: NIODeadline) {
        // One at a time, each out of the list before it starts: the core's count of openings
        // handed out must equal the parked ones whenever the thread asks.
        var index = 0
        while index < parkedOpenings.count {
            let waiting = parkedOpenings[index]
            guard let content = Self.reader(waiting.arriving, mode: waiting.opening.request.mode) else {
                index += 1
                continue
            }
            parkedOpenings.remove(at: index)
            start(waiting.opening, content: content, now: now)
        }
        let slots = Set(awaitingArrival)
        awaitingArrival.removeAll()
        for slot in slots {
            guard let transfer = io[slot], case .awaiting(let window) = transfer.sending else { continue }
            do {
                try send(window, for: transfer, now: now)
            } catch {
                react(now: now) { $0.contentFailed(slot: slot, error, now: now, into: &$1) }
            }
        }
        watchedArrivals = watchedArrivals.filter { _, arriving in
            switch arriving.state {
            case .complete, .failed: false
            case .waiting, .arriving: true
            }
        }
    }
}
