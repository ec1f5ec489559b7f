import Glibc
import Logging
import NIOCore

/// What an engine thread does with each of its core's effects: send, open, hand a request to
/// another thread, drain, refuse, let a transfer fall silent, end it, close an idle socket,
/// write a debug line. Nothing is decided here.
extension EngineThread {
    /// Performs one effect; nothing is decided here.
    func perform(_ effect: Effect, now: NIODeadline) {
        switch effect {
        case .sendWindow(let slot, let window):
            guard let transfer = io[slot] else { return }
            do {
                try send(window, for: transfer, now: now)
            } catch {
                react(now: now) { $0.contentFailed(slot: slot, error, now: now, into: &$1) }
            }
        case .send(let slot, let packet):
            guard let transfer = io[slot] else { return }
            setSending(transfer, .idle)
            if sendControl(packet, to: transfer.client, on: transfer.descriptor) == EAGAIN {
                transfer.pendingPacket = Array(scratch.readableBytesView)
                setSending(transfer, .blocked(.packet))
            }
        case .reply(let slot, let packet, let stranger):
            guard let transfer = io[slot] else { return }
            _ = sendControl(packet, to: stranger, on: transfer.descriptor)
        case .open(let opening):
            open(opening, now: now)
        case .handOver(let opening, let thread):
            core.admission.handOver(
                opening.request, client: opening.client, local: listeners[opening.listener].local, to: thread)
        case .drain(let slot):
            drain(slot, now: now)
            react(now: now) { $0.drained(now: now, into: &$1) }
        case .refuse(let refusal, let client, let listener):
            refuse(refusal, client: client, listener: listener)
        case .suspended(let slot):
            guard let transfer = io[slot] else { return }
            suspended(transfer)
        case .ended(let ending):
            finish(ending, now: now)
        case .close(let descriptor):
            close(descriptor)
        case .note(let note, let client):
            guard settings.logger.logLevel <= .debug else { return }
            settings.logger.debug("\(Self.text(note))", metadata: ["client": "\(client.display)"])
        }
    }

    static func text(_ note: Effect.Note) -> String {
        switch note {
        case .notARequest: "ignored datagram"
        case .repeatedRequest: "repeated request"
        case .runningElsewhere: "request of a transfer on another thread dropped"
        case .acknowledgedTransferRuns:
            "request ignored: single-port mode, and this client address and port has an acknowledged transfer"
        case .noPlaceToResume: "late datagram of a suspended transfer dropped: no place to resume it"
        }
    }
}
