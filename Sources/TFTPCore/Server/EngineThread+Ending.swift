import CTFTPShims
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An engine thread's transfers that wait for room in the send buffer, and how a transfer
/// ends (its log line, its counters, its socket back to the pool).
extension EngineThread {
    /// Waits for room in the transfer's send buffer (EPOLLOUT on its socket or, in
    /// single-port mode, on the listener's).
    func block(_ transfer: EngineTransfer) {
        guard !transfer.waitsForWritable else { return }
        transfer.waitsForWritable = true
        settings.metrics.sendBufferFull()
        if transfer.ownsSocket {
            _ = ctftp_epoll_modify(
                epoll, transfer.socket, EPOLLIN.rawValue | EPOLLOUT.rawValue, UInt64(transfer.socket))
        } else {
            if blockedOnListener[transfer.listener].isEmpty {
                let descriptor = listeners[transfer.listener].descriptor
                _ = ctftp_epoll_modify(
                    epoll, descriptor, EPOLLIN.rawValue | EPOLLOUT.rawValue,
                    Self.listenerTag | UInt64(transfer.listener))
            }
            blockedOnListener[transfer.listener].append(transfer.slot)
        }
    }

    func unblock(_ transfer: EngineTransfer) {
        guard transfer.waitsForWritable else { return }
        transfer.waitsForWritable = false
        if transfer.ownsSocket {
            _ = ctftp_epoll_modify(epoll, transfer.socket, EPOLLIN.rawValue, UInt64(transfer.socket))
        } else {
            blockedOnListener[transfer.listener].removeAll { $0 == transfer.slot }
            if blockedOnListener[transfer.listener].isEmpty {
                let descriptor = listeners[transfer.listener].descriptor
                _ = ctftp_epoll_modify(
                    epoll, descriptor, EPOLLIN.rawValue, Self.listenerTag | UInt64(transfer.listener))
            }
        }
    }

    /// The socket has room again: send what was pending.
    func resume(_ transfer: EngineTransfer) {
        if let pending = transfer.pending {
            transfer.pending = nil
            switch pending {
            case .window(let window, let sent):
                transmit(window, from: sent, for: transfer)
            case .packet(let bytes):
                let error = bytes.withUnsafeBytes { UDPSocket.send(transfer.socket, $0, to: transfer.client) }
                if error == EAGAIN { transfer.pending = pending }
            }
        }
        guard transfer.pending == nil else { return }
        unblock(transfer)
        if transfer.lingering { release(transfer) }
    }

    func resumeBlocked(onListener index: Int) {
        for slot in blockedOnListener[index] {
            guard let transfer = slots[slot] else { continue }
            resume(transfer)
            if transfer.pending != nil { return }
        }
    }

    // MARK: - The end

    /// The machine ended the transfer: its slot in the admission table is free first (so a
    /// reader of the log never sees a finished transfer still counted), then the line, then
    /// the last ERROR, then the socket goes.
    func finish(
        _ transfer: EngineTransfer, outcome: ServerTransfer.Outcome, packet: Packet?, now: NIODeadline,
        socketError: UDPSocket.Failure?
    ) {
        if transfer.suspended {
            // Its slot went back when it was suspended.
            setSuspended(transfer, false)
        } else {
            registry.release(transfer.client)
        }
        let report = TransferReport(
            client: transfer.client, request: transfer.endpoint.transfer.request, outcome: outcome,
            options: transfer.endpoint.transfer.options, statistics: transfer.endpoint.transfer.statistics,
            duration: now - transfer.started, socketError: socketError)
        report.record(in: settings.metrics)
        settings.board?.record(report)
        report.log(to: settings.logger)
        if routes[transfer.client] == transfer.slot { routes[transfer.client] = nil }
        transfer.pending = nil
        transfer.dropFrames()
        if let packet, socketError == nil, sendControl(packet, to: transfer.client, on: transfer.socket) == EAGAIN {
            // Keep the socket until the ERROR is out, or for a second at most.
            transfer.pending = .packet(Array(scratch.readableBytesView))
            transfer.lingering = true
            block(transfer)
            transfer.armed = nil
            arm(transfer, now + Self.lingerTime)
            return
        }
        let reusable: Bool
        switch outcome {
        case .completed, .sizeProbe, .refused, .unacknowledged: reusable = socketError == nil
        case .peerError, .timedOut, .protocolViolation, .readFailed, .aborted: reusable = false
        }
        release(transfer, reusable: reusable, roundTrip: transfer.endpoint.transfer.roundTripEstimate)
    }

    /// Reads and drops what waits on an idle pooled socket (a handful at most per event).
    func discard(from descriptor: Int32) {
        let buffer = receiveBuffer + Self.receiveBatch * Self.receiveSlotBytes
        for _ in 0..<8 {
            guard recv(descriptor, buffer, Self.receiveSlotBytes, Int32(MSG_DONTWAIT)) >= 0 else { return }
        }
    }

    /// Frees the transfer's slot and closes its socket (epoll forgets a closed descriptor).
    func release(_ transfer: EngineTransfer, reusable: Bool = false, roundTrip: TimeAmount? = nil) {
        if transfer.waitsForWritable { unblock(transfer) }
        if transfer.ownsSocket {
            setOwner(of: transfer.socket, to: -1)
            // A pooled socket stays registered with epoll; what reaches it while it idles is
            // dropped (``discard(from:)``).
            if reusable,
                pool.put(
                    transfer.socket, listener: transfer.listener, now: NIODeadline.now().uptimeNanoseconds,
                    quarantine: SocketPool.quarantine(roundTrip: roundTrip))
            {
                // Kept for a later transfer.
            } else {
                close(transfer.socket)
            }
        } else if routes[transfer.client] == transfer.slot {
            routes[transfer.client] = nil
        }
        slots[transfer.slot] = nil
        freeSlots.append(transfer.slot)
    }
}
