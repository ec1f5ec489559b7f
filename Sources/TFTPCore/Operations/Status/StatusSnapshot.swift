/// What `/api/transfers` answers and the status page shows, at one moment. The JSON field
/// names are stable (docs/operations.md, "Status page"); times are milliseconds since the epoch.
public struct StatusSnapshot: Sendable, Equatable {
    /// A transfer running now.
    public struct Active: Sendable, Equatable {
        public var client: String
        public var file: String
        /// The options asked for, and those granted ("name=value" separated by spaces).
        public var requested: String
        public var granted: String
        /// Payload bytes the client has acknowledged, and the file's size.
        public var bytes: Int64
        public var size: Int64
        public var elapsedMilliseconds: Int64
        public var retransmits: Int
        /// `sending`, or `waiting` (its client has not acknowledged the first packet: the
        /// transfer is silent and listens for a late ACK).
        public var state: String
    }

    /// A finished transfer, as its log line says it.
    public struct Finished: Sendable, Equatable {
        public var client: String
        public var file: String
        public var requested: String
        public var granted: String
        /// `completed`, `size-probe`, `client-error`, `refused`, `timed-out`, `unacknowledged`,
        /// `superseded`, `protocol-violation`, `read-failed` or `aborted` (``OutcomeLabel``).
        public var outcome: String
        /// The TFTP error or the reason, when the outcome has one.
        public var error: String?
        public var bytes: Int64
        public var durationMilliseconds: Double
        public var retransmits: Int
        public var endedAt: Int64
    }

    /// A request the listener refused before any transfer.
    public struct Refusal: Sendable, Equatable {
        public var client: String
        /// `busy`, `per-client-limit`, `shutting-down`, `malformed`, `write-request`, `no-port`.
        public var reason: String
        public var at: Int64
    }

    /// The TFTP engine's threads: how many, how many take new requests, how busy each is.
    public struct Engine: Sendable, Equatable {
        public var threads: Int
        public var active: Int
        /// Whether the engine chooses `active` itself (no `--threads`).
        public var adaptive: Bool
        /// Each thread's busy fraction (time outside `epoll_wait`) since the last look.
        public var busy: [Double]
    }

    public var now: Int64
    public var startedAt: Int64
    /// Longest-running first.
    public var active: [Active]
    /// Newest first, at most ``TransferBoard/recentLimit``.
    public var recent: [Finished]
    /// Newest first, at most ``TransferBoard/refusalLimit``.
    public var refusals: [Refusal]
    /// Finished transfers since start by outcome, and refusals by reason.
    public var outcomes: [String: Int]
    public var refused: [String: Int]
    /// With `--machines`: each machine's boot as one timeline, the one seen last first.
    public var machines: [MachineRegistry.Machine] = []
    /// The version of each file read after start (docs/operations.md, "Reloading").
    public var configuration: [ConfigVersions.Version] = []
    /// The directory the root's path leads to.
    public var root: ConfigVersions.Root?
    /// With `--origin`: the origin and the cache.
    public var origin: OriginStatus?
    /// The engine's threads, once it runs.
    public var engine: Engine?

    /// The JSON document of `/api/transfers`.
    public var json: String {
        var out = JSONWriter()
        out.object {
            $0.field("now", now)
            $0.field("started_at", startedAt)
            $0.field("totals") {
                $0.object {
                    $0.field("finished", outcomes.values.reduce(0, +))
                    $0.field("running", active.count)
                    $0.field("outcomes") { $0.counts(outcomes) }
                    $0.field("refused") { $0.counts(refused) }
                }
            }
            $0.field("active") {
                $0.array(active) { item, out in
                    out.object {
                        $0.field("client", item.client)
                        $0.field("file", item.file)
                        $0.field("requested", item.requested)
                        $0.field("granted", item.granted)
                        $0.field("bytes", item.bytes)
                        $0.field("size", item.size)
                        $0.field("elapsed_ms", item.elapsedMilliseconds)
                        $0.field("retransmits", item.retransmits)
                        $0.field("state", item.state)
                    }
                }
            }
            $0.field("recent") {
                $0.array(recent) { item, out in
                    out.object {
                        $0.field("client", item.client)
                        $0.field("file", item.file)
                        $0.field("requested", item.requested)
                        $0.field("granted", item.granted)
                        $0.field("outcome", item.outcome)
                        $0.field("error", item.error)
                        $0.field("bytes", item.bytes)
                        $0.field("duration_ms", item.durationMilliseconds)
                        $0.field("retransmits", item.retransmits)
                        $0.field("ended_at", item.endedAt)
                    }
                }
            }
            $0.field("refusals") {
                $0.array(refusals) { item, out in
                    out.object {
                        $0.field("client", item.client)
                        $0.field("reason", item.reason)
                        $0.field("at", item.at)
                    }
                }
            }
            $0.field("machines") {
                $0.array(machines) { machine, out in Self.write(machine, into: &out) }
            }
            $0.field("root") { out in
                guard let root else { return out.null() }
                out.object {
                    $0.field("path", root.path)
                    $0.field("resolved", root.resolved)
                    $0.field("since", root.since)
                    $0.field("unreachable", root.unreachable)
                }
            }
            $0.field("engine") { out in
                guard let engine else { return out.null() }
                out.object {
                    $0.field("threads", engine.threads)
                    $0.field("active", engine.active)
                    $0.field("adaptive", engine.adaptive)
                    $0.field("busy") { $0.array(engine.busy) { fraction, out in out.value(fraction) } }
                }
            }
            $0.field("origin") { out in
                guard let origin else { return out.null() }
                out.object {
                    $0.field("url", origin.url)
                    $0.field("reachable", origin.reachable)
                    $0.field("last_error", origin.lastError)
                    $0.field("last_error_at", origin.lastErrorAt)
                    $0.field("downloads", origin.downloads)
                    $0.field("cache") { out in
                        out.object {
                            $0.field("entries", origin.entries)
                            $0.field("bytes", origin.bytes)
                            $0.field("limit", origin.limit)
                            $0.field("hits", origin.hits)
                            $0.field("misses", origin.misses)
                            $0.field("stale_serves", origin.staleServes)
                            $0.field("evictions", origin.evictions)
                        }
                    }
                }
            }
            $0.field("configuration") {
                $0.array(configuration) { version, out in
                    out.object {
                        $0.field("file", version.name)
                        $0.field("paths") { $0.strings(version.paths) }
                        $0.field("sha256", version.sha256)
                        $0.field("bytes", version.bytes)
                        $0.field("loaded_at", version.loadedAt)
                        $0.field("last_failure", version.failure)
                        $0.field("last_failure_at", version.failedAt)
                    }
                }
            }
        }
        return out.text
    }

    /// One machine: what is known of it, its profile, and its timeline.
    static func write(_ machine: MachineRegistry.Machine, into out: inout JSONWriter) {
        out.object {
            Self.write(machine.identity, into: &$0)
            $0.field("profile", machine.profile)
            $0.field("events") {
                $0.array(machine.events) { event, out in
                    out.object {
                        $0.field("at", event.at)
                        $0.field("kind", event.kind.rawValue)
                        $0.field("subject", event.subject)
                        $0.field("result", event.result)
                        $0.field("succeeded", event.verdict != .failed)
                        $0.field("normal", event.verdict == .expected)
                        $0.field("verdict", event.verdict.rawValue)
                    }
                }
            }
        }
    }

    static func write(_ identity: MachineIdentity, into out: inout JSONWriter) {
        out.field("mac", identity.mac.map { "\($0)" })
        out.field("ip", identity.address.map { "\($0)" })
        out.field("arch", identity.architecture?.rawValue)
        out.field("uuid", identity.uuid)
        out.field("hostname", identity.hostname)
    }

    /// The document of `/api/explain`: which profile a machine would get, and why.
    public static func json(_ explanation: MachineExplanation) -> String {
        var out = JSONWriter()
        out.object {
            $0.field("machine") { out in out.object { Self.write(explanation.machine, into: &$0) } }
            $0.field("profile", explanation.chosen)
            $0.field("candidates") {
                $0.array(explanation.candidates) { candidate, out in
                    out.object {
                        $0.field("name", candidate.name)
                        $0.field("line", candidate.line)
                        $0.field("matched", candidate.matched)
                        $0.field("reasons") { $0.strings(candidate.reasons) }
                    }
                }
            }
            let resolution = explanation.resolution
            $0.field("boot") { out in
                out.object { out in
                    for architecture in resolution.bootFiles.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                        out.field(architecture.rawValue, resolution.bootFiles[architecture])
                    }
                }
            }
            switch resolution.script {
            case .file(let name): $0.field("script", "file \(name)")
            case .inline: $0.field("script", "inline")
            case nil: $0.field("script", nil as String?)
            }
            $0.field("vars") { out in
                out.object { out in
                    for name in resolution.variables.keys.sorted() { out.field(name, resolution.variables[name]) }
                }
            }
        }
        return out.text
    }
}
