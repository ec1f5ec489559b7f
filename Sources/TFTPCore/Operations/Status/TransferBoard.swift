import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// What the status page and `/api/transfers` show (`--status`): the last finished transfers
/// and refusals, totals since start, and the transfers running now. Fed at a transfer's end
/// and at a refusal — what the log line already says, once per transfer and behind one lock,
/// never per packet. The running transfers are asked of the engine threads only when a page
/// or the API is requested (``snapshot()``).
///
/// Bounded: at most ``recentLimit`` finished transfers and ``refusalLimit`` refusals are
/// kept (the oldest go first); the running ones are at most `--max-transfers`.
public final class TransferBoard: Sendable {
    /// Finished transfers kept for the page.
    public static let recentLimit = 500
    /// Refusals kept for the page.
    public static let refusalLimit = 200

    private struct State {
        var finished: [StatusSnapshot.Finished] = []
        var finishedNext = 0
        var refusals: [StatusSnapshot.Refusal] = []
        var refusalsNext = 0
        var outcomes: [String: Int] = [:]
        var refused: [String: Int] = [:]
        var engine: DatagramEngine?
    }

    private let state = NIOLockedValueBox(State())
    /// When the server started, in milliseconds since the epoch.
    public let startedAt: Int64
    /// With `--machines`: whose timelines the page shows.
    public let machines: MachineRegistry?
    /// The versions of the files read after start, and the root in use.
    public let versions: ConfigVersions?
    /// With `--origin`: the origin's state and the cache's, asked when a page is.
    private let originStatus = NIOLockedValueBox<(@Sendable () -> OriginStatus)?>(nil)

    public init(machines: MachineRegistry? = nil, versions: ConfigVersions? = nil) {
        startedAt = Self.wallClock()
        self.machines = machines
        self.versions = versions
    }

    /// Where the page asks for the origin's state (`--origin`).
    public func showOrigin(_ status: @escaping @Sendable () -> OriginStatus) {
        originStatus.withLockedValue { $0 = status }
    }

    /// Milliseconds since the epoch (the page shows wall-clock times).
    public static func wallClock() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// The engine whose threads report the running transfers.
    func attach(_ engine: DatagramEngine?) {
        state.withLockedValue { $0.engine = engine }
    }

    /// A transfer ended (the same facts as its log line).
    func record(_ report: TransferReport) {
        let entry = StatusSnapshot.Finished(
            client: report.client.display, file: report.request.printableFilename,
            requested: Self.text(report.request.options), granted: Self.text(report.options.acknowledged),
            outcome: report.label, error: report.errorText, bytes: report.statistics.bytesAcknowledged,
            durationMilliseconds: Double(report.duration.nanoseconds) / 1_000_000,
            retransmits: report.statistics.retransmits, endedAt: Self.wallClock())
        state.withLockedValue { state in
            state.outcomes[entry.outcome, default: 0] += 1
            Self.append(entry, to: &state.finished, next: &state.finishedNext, limit: Self.recentLimit)
        }
    }

    /// The listener refused a request (busy, per-client limit, a write request...).
    func refused(_ refusal: RequestRefusal, client: PeerAddress) {
        let entry = StatusSnapshot.Refusal(
            client: client.display, reason: refusal.reason.rawValue, at: Self.wallClock())
        state.withLockedValue { state in
            state.refused[entry.reason, default: 0] += 1
            Self.append(entry, to: &state.refusals, next: &state.refusalsNext, limit: Self.refusalLimit)
        }
    }

    /// Everything the page shows, now: the running transfers from every engine thread.
    public func snapshot() async -> StatusSnapshot {
        let engine = state.withLockedValue { $0.engine }
        let active = await engine?.activeTransfers() ?? []
        let load = engine?.load.status(now: NIODeadline.now().uptimeNanoseconds)
        return state.withLockedValue { state in
            StatusSnapshot(
                now: Self.wallClock(), startedAt: startedAt,
                active: active.sorted { $0.elapsedMilliseconds > $1.elapsedMilliseconds },
                recent: Self.ordered(state.finished, next: state.finishedNext),
                refusals: Self.ordered(state.refusals, next: state.refusalsNext),
                outcomes: state.outcomes, refused: state.refused, machines: machines?.machines ?? [],
                configuration: versions?.versions ?? [], root: versions?.root,
                origin: originStatus.withLockedValue { $0 }?(), engine: load)
        }
    }

    /// Options as the status page shows them: `name=value` pairs joined by spaces.
    static func text(_ options: [TransferOption]) -> String {
        TransferOption.text(options, separator: " ")
    }

    private static func append<Entry>(_ entry: Entry, to ring: inout [Entry], next: inout Int, limit: Int) {
        if ring.count < limit {
            ring.append(entry)
        } else {
            ring[next] = entry
        }
        next = (next + 1) % limit
    }

    /// A ring's entries, newest first: oldest first they are those from `next` on, then
    /// those before it (while the ring fills, `next` is its end).
    private static func ordered<Entry>(_ ring: [Entry], next: Int) -> [Entry] {
        Array((ring[min(next, ring.count)...] + ring[..<min(next, ring.count)]).reversed())
    }
}
