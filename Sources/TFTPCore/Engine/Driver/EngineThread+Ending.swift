import CTFTPShims
import Glibc
import Logging
import NIOCore

/// An engine thread's transfers that wait for room in the send buffer, and how a transfer
/// ends (its line, its counters, its last ERROR, its socket).
extension EngineThread {
    /// A last ERROR that found the send buffer full: sent when the socket is writable, or
    /// dropped at the deadline the core gave (``EngineCore/lastErrorWaits(socket:ownSocket:now:)``).
    /// An own socket closes after it.
    struct Farewell {
        var descriptor: Int32
        var bytes: [UInt8]
        var client: PeerAddress
        var deadline: UInt64
        var closesSocket: Bool
        /// The listener whose socket it is (single-port mode), if any.
        var listener: Int?
    }

    /// Moves the transfer to `new` sending state and asks epoll for writability exactly
    /// while it is blocked (on its own socket, or in single-port mode on the listener's).
    func setSending(_ transfer: EngineTransfer, _ new: EngineTransfer.Sending) {
        let wants: Bool
        if case .blocked = new { wants = true } else { wants = false }
        transfer.sending = new
        guard wants != transfer.watchesWritable else { return }
        transfer.watchesWritable = wants
        if wants { settings.metrics.tftp.sendBufferFull() }
        if transfer.ownsSocket {
            _ = ctftp_epoll_modify(
                epoll, transfer.descriptor, EPOLLIN.rawValue | (wants ? EPOLLOUT.rawValue : 0),
                EpollTag.socket(transfer.descriptor).rawValue)
        } else if wants {
            blockedOnListener[transfer.listener].append(transfer.slot)
            watchListener(transfer.listener)
        } else {
            blockedOnListener[transfer.listener].removeAll { $0 == transfer.slot }
            watchListener(transfer.listener)
        }
    }

    /// Asks epoll for the listener's writability while a transfer or a farewell waits on it.
    func watchListener(_ index: Int) {
        let wants = !blockedOnListener[index].isEmpty || farewells.contains { $0.listener == index }
        _ = ctftp_epoll_modify(
            epoll, listeners[index].descriptor, EPOLLIN.rawValue | (wants ? EPOLLOUT.rawValue : 0),
            EpollTag.listener(index).rawValue)
    }

    /// The transfer's socket has room again: send what was pending.
    func writable(_ transfer: EngineTransfer) {
        guard case .blocked(let pending) = transfer.sending else { return setSending(transfer, transfer.sending) }
        // Stays registered while sending; unregistered below if nothing is left.
        transfer.sending = .idle
        switch pending {
        case .window(let window, let sent):
            transmit(window, from: sent, for: transfer)
        case .packet:
            let sent = transfer.pendingPacket.withUnsafeBytes {
                UDPSocket.send(transfer.descriptor, $0, to: transfer.client)
            }
            if sent == EAGAIN {
                transfer.sending = .blocked(pending)
            } else {
                transfer.pendingPacket = []
            }
        }
        setSending(transfer, transfer.sending)
    }

    func listenerWritable(_ index: Int) {
        flushFarewells(on: listeners[index].descriptor)
        for slot in blockedOnListener[index] {
            guard let transfer = io[slot] else { continue }
            writable(transfer)
            if transfer.isBlocked { break }
        }
        watchListener(index)
    }

    /// A socket no running transfer owns is ready: an idle pooled one (what reaches it is
    /// dropped, as if the port were closed), or one whose ended transfer's last ERROR waits.
    func unownedSocketReady(_ descriptor: Int32, flags: UInt32, now: NIODeadline) {
        if flags & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0,
            farewells.contains(where: { $0.descriptor == descriptor })
        {
            flushFarewells(on: descriptor, failed: flags & EPOLLERR.rawValue != 0)
        }
        guard flags & EPOLLIN.rawValue != 0 else { return }
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        for _ in 0..<8 {
            guard recv(descriptor, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT)) >= 0 else { return }
        }
    }

    /// Sends the farewells waiting on `descriptor` (or drops them if its socket failed);
    /// those sent, or given up, close their socket.
    func flushFarewells(on descriptor: Int32, failed: Bool = false) {
        guard !farewells.isEmpty else { return }
        var index = 0
        while index < farewells.count {
            let farewell = farewells[index]
            guard farewell.descriptor == descriptor else {
                index += 1
                continue
            }
            if !failed,
                farewell.bytes.withUnsafeBytes({ UDPSocket.send(descriptor, $0, to: farewell.client) }) == EAGAIN
            {
                return
            }
            farewells.remove(at: index)
            if farewell.closesSocket { close(descriptor) }
            if let listener = farewell.listener { watchListener(listener) }
        }
    }

    /// Farewells past their wait are dropped (their sockets closed).
    func expireFarewells(now: UInt64) {
        var listenersToWatch: [Int] = []
        farewells.removeAll { farewell in
            guard farewell.deadline <= now else { return false }
            if farewell.closesSocket { close(farewell.descriptor) }
            if let listener = farewell.listener { listenersToWatch.append(listener) }
            return true
        }
        for index in listenersToWatch { watchListener(index) }
    }

    // MARK: - The end

    /// The core ended a transfer (its place and route are gone already): the line and the
    /// counters, then the last ERROR, then the socket goes (to the pool if the core put it
    /// there, else closed; a last ERROR that must wait for room keeps it a little longer).
    func finish(_ ending: TransferEnding<PeerAddress>, now: NIODeadline) {
        guard let transfer = io[ending.slot] else { return }
        io[ending.slot] = nil
        let report = TransferReport(
            client: ending.client, request: ending.request, outcome: ending.outcome, options: ending.options,
            statistics: ending.statistics, duration: now - ending.started,
            socketError: ending.socketErrno.map { UDPSocket.Failure(operation: "transfer socket", errno: $0) })
        report.record(in: settings.metrics)
        settings.board?.record(report)
        report.log(to: settings.logger)
        if let machines = settings.machines, let address = ending.client.ipv4Address {
            machines.registry.record(MachineEvent(report, at: machines.registry.clock()), address: address)
        }
        setSending(transfer, .idle)
        transfer.dropFrames()
        if let packet = ending.finalPacket, ending.socketErrno == nil,
            sendControl(packet, to: ending.client, on: transfer.descriptor) == EAGAIN
        {
            let owns = transfer.ownsSocket
            // The core's rule: how long it waits, and its socket serves no other transfer meanwhile.
            let deadline = core.lastErrorWaits(socket: transfer.descriptor, ownSocket: owns, now: now)
            farewells.append(
                Farewell(
                    descriptor: transfer.descriptor, bytes: Array(scratch.readableBytesView), client: ending.client,
                    deadline: deadline.uptimeNanoseconds, closesSocket: owns, listener: owns ? nil : transfer.listener))
            if owns {
                _ = ctftp_epoll_modify(
                    epoll, transfer.descriptor, EPOLLIN.rawValue | EPOLLOUT.rawValue,
                    EpollTag.socket(transfer.descriptor).rawValue)
            } else {
                watchListener(transfer.listener)
            }
            return
        }
        if transfer.ownsSocket, !ending.pooled { close(transfer.descriptor) }
    }
}
