import Glibc

/// The status page (`--status`): rendered here, on the server, from a ``StatusSnapshot``.
/// The page's script only fetches the same rendering again (`/fragment`) once a second and
/// swaps it in, so there is one rendering and no build toolchain; nothing is loaded from
/// elsewhere. Every name and address is HTML-escaped: a client chooses its file names.
///
/// It shows what the log lines show, no more: client addresses, requested names (never a
/// path on the server), options, outcomes and errors.
public enum StatusPage {
    /// Running transfers shown in the table; the rest are counted.
    static let activeRows = 200
    /// Clients shown under "Recent transfers by client", and transfers per client.
    static let clientGroups = 50
    static let perClient = 40

    /// The whole page.
    public static func page(_ snapshot: StatusSnapshot) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>tftpd status</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
        h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
        table{border-collapse:collapse;width:100%}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
        th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .ok{color:#176117}.probe{color:#555}.bad{color:#a31515;font-weight:600}.wait{color:#8a5a00}
        .bar{display:inline-block;width:8em;height:.7em;background:#eee;vertical-align:middle}
        .bar span{display:block;height:100%;background:#3a7bd5}
        .client{margin:.8em 0 .2em;font-weight:600}.muted{color:#777}#live{font-size:.85em}
        </style></head><body>
        <h1>tftpd status</h1>
        <div id="live" class="muted">live updates: starting</div>
        <main id="status">\(fragment(snapshot))</main>
        <script>
        (function(){const main=document.getElementById('status'),live=document.getElementById('live');
        async function tick(){try{const r=await fetch('/fragment',{cache:'no-store'});
        if(r.ok){main.innerHTML=await r.text();live.textContent='live: updated every second';}
        else{live.textContent='paused: the server answered '+r.status;}}
        catch(e){live.textContent='paused: the server does not answer';}}
        setInterval(tick,1000);})();
        </script>
        </body></html>
        """
    }

    /// The part the script refreshes.
    public static func fragment(_ snapshot: StatusSnapshot) -> String {
        var html = ""
        let finished = snapshot.outcomes.values.reduce(0, +)
        let failures = snapshot.outcomes.filter { $0.key != "completed" && $0.key != "size-probe" }
        let failed = failures.values.reduce(0, +)
        let refused = snapshot.refused.values.reduce(0, +)
        html += "<p id=\"totals\">Since \(clock(snapshot.startedAt)) UTC: <b>\(finished)</b> "
        html += "\(plural(finished, "transfer")) finished "
        html += "(<span class=\"ok\">\(snapshot.outcomes["completed", default: 0]) completed</span>, "
        let probes = snapshot.outcomes["size-probe", default: 0]
        html += "\(probes) size \(plural(probes, "probe")), "
        html += "<span class=\"\(failed > 0 ? "bad" : "muted")\">\(failed) failed</span>), "
        html += "\(refused) \(plural(refused, "request")) refused; <b>\(snapshot.active.count)</b> running now.</p>"

        html += "<h2>In progress (\(snapshot.active.count))</h2>"
        if snapshot.active.isEmpty {
            html += "<p class=\"muted\">No transfer is running.</p>"
        } else {
            html += "<table id=\"active\"><tr><th>client</th><th>file</th><th>options</th><th>progress</th>"
            html += "<th>rate</th><th>time</th><th>retransmits</th></tr>"
            for item in snapshot.active.prefix(activeRows) {
                let percent = item.size > 0 ? min(100, Double(item.bytes) * 100 / Double(item.size)) : 100
                let seconds = Double(item.elapsedMilliseconds) / 1000
                let rate = seconds > 0 ? Double(item.bytes) / seconds : 0
                html += "<tr><td>\(escape(item.client))</td><td>\(escape(item.file))</td>"
                html += "<td>\(escape(item.granted.isEmpty ? "none" : item.granted))</td><td>"
                if item.state == "waiting" {
                    html += "<span class=\"wait\">no ACK yet: silent, waiting for a late one</span>"
                } else {
                    html += "<span class=\"bar\"><span style=\"width:\(Int(percent))%\"></span></span> "
                    html += "\(Int(percent))% of \(bytes(item.size))"
                }
                html += "</td><td class=\"n\">\(bytes(Int64(rate)))/s</td><td class=\"n\">\(duration(seconds))</td>"
                html += "<td class=\"n\">\(item.retransmits)</td></tr>"
            }
            html += "</table>"
            if snapshot.active.count > activeRows {
                html += "<p class=\"muted\">and \(snapshot.active.count - activeRows) more.</p>"
            }
        }

        html += "<h2>Failures and refusals</h2>"
        if failures.isEmpty && snapshot.refused.isEmpty {
            html += "<p class=\"muted\">None.</p>"
        } else {
            html += "<table id=\"failures\"><tr><th>what</th><th>count</th><th>last</th></tr>"
            for (outcome, count) in failures.sorted(by: { $0.key < $1.key }) {
                let last = snapshot.recent.first { $0.outcome == outcome }
                let detail = last.map { "\($0.file) from \($0.client)\($0.error.map { ": " + $0 } ?? "")" } ?? ""
                html += "<tr><td class=\"bad\">\(escape(outcome))</td><td class=\"n\">\(count)</td>"
                html += "<td>\(escape(detail))</td></tr>"
            }
            for (reason, count) in snapshot.refused.sorted(by: { $0.key < $1.key }) {
                let last = snapshot.refusals.first { $0.reason == reason }
                html += "<tr><td class=\"bad\">refused: \(escape(reason))</td><td class=\"n\">\(count)</td>"
                html += "<td>\(escape(last.map { "from \($0.client) at \(clock($0.at))" } ?? ""))</td></tr>"
            }
            html += "</table>"
        }

        if !snapshot.machines.isEmpty { html += machines(snapshot.machines) }
        if snapshot.root != nil || !snapshot.configuration.isEmpty { html += served(snapshot) }
        if let origin = snapshot.origin { html += Self.origin(origin) }
        if let engine = snapshot.engine { html += Self.engine(engine) }

        html += "<h2>Recent transfers by client</h2>"
        if snapshot.recent.isEmpty {
            html += "<p class=\"muted\">Nothing has finished yet.</p>"
        }
        // A machine's boot reads as one sequence: its transfers, oldest first, grouped by
        // its address (the ports change with every request).
        var order: [String] = []
        var groups: [String: [StatusSnapshot.Finished]] = [:]
        for item in snapshot.recent {
            let host = host(of: item.client)
            if groups[host] == nil { order.append(host) }
            groups[host, default: []].append(item)
        }
        for host in order.prefix(clientGroups) {
            let items = groups[host] ?? []
            html += "<div class=\"client\">\(escape(host))</div>"
            html += "<table class=\"recent\"><tr><th>ended</th><th>file</th><th>outcome</th><th>bytes</th>"
            html += "<th>time</th><th>options</th></tr>"
            for item in items.prefix(perClient).reversed() {
                let style =
                    item.outcome == "completed" ? "ok" : item.outcome == "size-probe" ? "probe" : "bad"
                let outcome = item.outcome + (item.error.map { ": " + $0 } ?? "")
                html += "<tr><td>\(clock(item.endedAt))</td><td>\(escape(item.file))</td>"
                html += "<td class=\"\(style)\">\(escape(outcome))</td><td class=\"n\">\(bytes(item.bytes))</td>"
                html += "<td class=\"n\">\(duration(item.durationMilliseconds / 1000))</td>"
                html += "<td>\(escape(item.granted.isEmpty ? item.requested : item.granted))</td></tr>"
            }
            html += "</table>"
        }
        if order.count > clientGroups {
            html += "<p class=\"muted\">and \(order.count - clientGroups) more clients.</p>"
        }
        return html
    }

    /// With `--machines`: each machine's boot as one timeline, DHCP → TFTP → HTTP, times from
    /// its first step; a firmware's size probe (a transfer the client ends after the OACK on
    /// purpose) is marked as the normal step it is.
    static func machines(_ machines: [MachineRegistry.Machine]) -> String {
        var html = "<h2>Machines (\(machines.count))</h2>"
        for machine in machines.prefix(clientGroups) {
            let identity = machine.identity
            var title = identity.mac.map { "\($0)" } ?? "unknown hardware address"
            if let address = identity.address { title += " · \(address)" }
            if let architecture = identity.architecture { title += " · \(architecture.rawValue)" }
            if let hostname = identity.hostname { title += " · \(hostname)" }
            if let profile = machine.profile { title += " · profile \(profile)" }
            html += "<div class=\"client machine\">\(escape(title))</div>"
            html += "<table class=\"timeline\"><tr><th>at</th><th>+s</th><th>step</th><th>what</th><th>result</th></tr>"
            let start = machine.events.first?.at ?? 0
            for event in machine.events.suffix(perClient) {
                let style: String
                let result: String
                switch event.verdict {
                case .succeeded: (style, result) = ("ok", event.result)
                case .expected: (style, result) = ("probe", event.result + " (normal: the firmware's size probe)")
                case .failed: (style, result) = ("bad", event.result)
                }
                let offset = Double(event.at - start) / 1000
                html += "<tr><td>\(clock(event.at))</td><td class=\"n\">\(String(format1(offset)))</td>"
                html += "<td>\(event.kind.rawValue.uppercased())</td><td>\(escape(event.subject))</td>"
                html += "<td class=\"\(style)\">\(escape(result))</td></tr>"
            }
            html += "</table>"
        }
        if machines.count > clientGroups {
            html += "<p class=\"muted\">and \(machines.count - clientGroups) more machines.</p>"
        }
        return html
    }

    /// What serves now: the directory the root's path leads to, and the version of each
    /// file read after start (its SHA-256, first 16 digits, as `sha256sum` prints it; when it
    /// was loaded; a later reload that failed and kept it).
    static func served(_ snapshot: StatusSnapshot) -> String {
        var html = "<h2>Serving</h2><table id=\"serving\"><tr><th>what</th><th>from</th><th>version</th>"
        html += "<th>since</th><th>last reload</th></tr>"
        if let root = snapshot.root {
            html += "<tr><td>root</td><td>\(escape(root.path)) → \(escape(root.resolved))</td><td></td>"
            html += "<td>\(clock(root.since))</td>"
            html +=
                root.unreachable.map { "<td class=\"bad\">the path leads nowhere now: \(escape($0))</td>" }
                ?? "<td class=\"ok\">ok</td>"
            html += "</tr>"
        }
        for version in snapshot.configuration {
            html += "<tr><td>\(escape(version.name))</td><td>\(escape(version.paths.joined(separator: ", ")))</td>"
            html += "<td><code>\(version.sha256.prefix(16))</code> (\(bytes(Int64(version.bytes))))</td>"
            html += "<td>\(clock(version.loadedAt))</td>"
            if let failure = version.failure, let at = version.failedAt {
                html += "<td class=\"bad\">\(clock(at)): kept this version: \(escape(failure))</td>"
            } else {
                html += "<td class=\"ok\">ok</td>"
            }
            html += "</tr>"
        }
        return html + "</table>"
    }

    /// The engine threads: how many take new requests, and how busy each one is.
    static func engine(_ engine: StatusSnapshot.Engine) -> String {
        let busy = engine.busy.enumerated().map { "thread \($0.offset) \(Int(($0.element * 100).rounded()))%" }
        var html = "<h2>Engine</h2><p id=\"engine\">\(engine.active) of \(engine.threads) "
        html += "\(plural(engine.threads, "thread")) taking new requests"
        html += engine.adaptive ? " (chosen by load)" : ""
        html += "; busy: \(busy.joined(separator: ", ")).</p>"
        return html
    }

    /// The origin (reachable or not, and why) and the cache (what it holds, how it serves).
    static func origin(_ origin: OriginStatus) -> String {
        var html = "<h2>Origin</h2><p id=\"origin\">\(escape(origin.url)): "
        if origin.reachable {
            html += "<span class=\"ok\">reachable</span>"
        } else {
            html += "<span class=\"bad\">unreachable"
            if let error = origin.lastError, let at = origin.lastErrorAt {
                html += " since \(clock(at)) (\(escape(error)))"
            }
            html += "</span>: cached files are served, missing ones refused"
        }
        html += "; \(origin.downloads) \(plural(origin.downloads, "download")) on the way.</p>"
        html += "<p>Cache: \(origin.entries) \(plural(origin.entries, "file")), \(bytes(origin.bytes)) of "
        html += "\(bytes(origin.limit)); since start \(origin.hits) served from it, \(origin.misses) fetched, "
        html += "\(origin.staleServes) served stale, \(origin.evictions) evicted.</p>"
        return html
    }

    /// A number of seconds with one decimal: `12.3`.
    static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// HTML text, escaped as the directory listings escape theirs.
    static func escape(_ text: String) -> String { DirectoryListing.escape(text) }

    /// The address without its port: `192.0.2.7`, `[2001:db8::7]`.
    static func host(of client: String) -> String {
        guard let colon = client.lastIndex(of: ":") else { return client }
        return String(client[..<colon])
    }

    /// Wall-clock time of day, UTC, from milliseconds since the epoch.
    static func clock(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    static func plural(_ count: Int, _ noun: String) -> String {
        count == 1 ? noun : noun + "s"
    }

    static func bytes(_ count: Int64) -> String {
        if count < 10_000 { return "\(count) B" }
        if count < 10_000_000 { return "\(count / 1000) kB" }
        return "\(count / 1_000_000) MB"
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int(seconds * 1000)) ms" }
        if seconds < 120 { return "\(Int(seconds)) s" }
        return "\(Int(seconds) / 60) min"
    }
}
