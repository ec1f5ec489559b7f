import Testing

@testable import TFTPCore

/// `/api/transfers` as JSON: stable field names, RFC 8259 string escaping, null for no error.
@Suite struct StatusSnapshotTests {
    @Test func jsonFieldsAndEscaping() {
        let snapshot = StatusSnapshot(
            now: 5, startedAt: 1,
            active: [
                .init(
                    client: "192.0.2.1:1", file: "a\"b\\c\n\u{1}", requested: "tsize=0", granted: "tsize=9",
                    bytes: 3, size: 9, elapsedMilliseconds: 7, retransmits: 1, state: "waiting")
            ],
            recent: [
                .init(
                    client: "192.0.2.2:2", file: "k", requested: "", granted: "", outcome: "completed", error: nil,
                    bytes: 4, durationMilliseconds: 2.5, retransmits: 0, endedAt: 4)
            ],
            refusals: [.init(client: "192.0.2.3:3", reason: "busy", at: 3)],
            outcomes: ["completed": 1], refused: ["busy": 1])
        #expect(
            snapshot.json
                == #"{"now":5,"started_at":1,"totals":{"finished":1,"running":1,"outcomes":{"completed":1},"refused":{"busy":1}},"#
                + #""active":[{"client":"192.0.2.1:1","file":"a\"b\\c\n\u0001","requested":"tsize=0","granted":"tsize=9","bytes":3,"size":9,"elapsed_ms":7,"retransmits":1,"state":"waiting"}],"#
                + #""recent":[{"client":"192.0.2.2:2","file":"k","requested":"","granted":"","outcome":"completed","error":null,"bytes":4,"duration_ms":2.5,"retransmits":0,"ended_at":4}],"#
                + #""refusals":[{"client":"192.0.2.3:3","reason":"busy","at":3}],"machines":[],"root":null,"#
                + #""engine":null,"origin":null,"configuration":[]}"#)
    }

    /// With `--machines`: each machine, what is known of it, and its timeline.
    @Test func machineTimelines() {
        var snapshot = StatusSnapshot(
            now: 5, startedAt: 1, active: [], recent: [], refusals: [], outcomes: [:], refused: [:])
        snapshot.machines = [
            MachineRegistry.Machine(
                identity: MachineIdentity(mac: MACAddress("52:54:00:00:00:01"), architecture: .efiX64),
                profile: "alpha",
                events: [
                    MachineEvent(
                        at: 2, kind: .dhcp, subject: "offer (port 67)", result: "pxe: ipxe.efi", verdict: .succeeded),
                    MachineEvent(
                        at: 3, kind: .tftp, subject: "ipxe.efi", result: "size-probe", verdict: .expected),
                ])
        ]
        #expect(
            snapshot.json.hasSuffix(
                #""machines":[{"mac":"52:54:00:00:00:01","ip":null,"arch":"efi-x64","uuid":null,"hostname":null,"#
                    + #""profile":"alpha","events":[{"at":2,"kind":"dhcp","subject":"offer (port 67)","result":"pxe: ipxe.efi","#
                    + #""succeeded":true,"normal":false,"verdict":"succeeded"},{"at":3,"kind":"tftp","subject":"ipxe.efi","result":"size-probe","#
                    + #""succeeded":true,"normal":true,"verdict":"expected"}]}],"root":null,"engine":null,"origin":null,"#
                    + #""configuration":[]}"#))
        let page = StatusPage.fragment(snapshot)
        #expect(page.contains("52:54:00:00:00:01 · efi-x64 · profile alpha"))
        #expect(page.contains("size-probe (normal: the firmware&#39;s size probe)"))
    }

    /// What serves now: the root's directory and each watched file's version.
    @Test func rootAndConfigurationVersions() {
        var snapshot = StatusSnapshot(
            now: 5, startedAt: 1, active: [], recent: [], refusals: [], outcomes: [:], refused: [:])
        snapshot.root = .init(path: "/srv/tftp", resolved: "/srv/releases/v2", since: 4, unreachable: nil)
        snapshot.configuration = [
            .init(
                name: "machines", paths: ["/etc/tftpd/machines.yaml"], sha256: String(repeating: "ab", count: 32),
                bytes: 120, loadedAt: 3, failure: "machines.yaml:7: unknown key", failedAt: 4)
        ]
        #expect(
            snapshot.json.hasSuffix(
                #""root":{"path":"/srv/tftp","resolved":"/srv/releases/v2","since":4,"unreachable":null},"engine":null,"origin":null,"#
                    + #""configuration":[{"file":"machines","paths":["/etc/tftpd/machines.yaml"],"sha256":""#
                    + String(repeating: "ab", count: 32)
                    + #"","bytes":120,"loaded_at":3,"last_failure":"machines.yaml:7: unknown key","last_failure_at":4}]}"#
            ))
        let page = StatusPage.fragment(snapshot)
        #expect(page.contains("/srv/tftp → /srv/releases/v2"))
        #expect(page.contains("<code>abababababababab</code> (120 B)"))
        #expect(page.contains("kept this version: machines.yaml:7: unknown key"))
    }

    /// With `--origin`: where it is, whether it answers, and the cache.
    @Test func originAndCache() {
        var snapshot = StatusSnapshot(
            now: 5, startedAt: 1, active: [], recent: [], refusals: [], outcomes: [:], refused: [:])
        snapshot.origin = OriginStatus(
            url: "https://boot.example/releases", reachable: false, lastError: "connection refused", lastErrorAt: 4,
            entries: 3, bytes: 5 << 20, limit: 8 << 30, downloads: 1, hits: 40, misses: 3, staleServes: 2,
            evictions: 0)
        #expect(
            snapshot.json.contains(
                #""origin":{"url":"https://boot.example/releases","reachable":false,"last_error":"connection refused","#
                    + #""last_error_at":4,"downloads":1,"cache":{"entries":3,"bytes":5242880,"limit":8589934592,"hits":40,"#
                    + #""misses":3,"stale_serves":2,"evictions":0}}"#))
        let page = StatusPage.fragment(snapshot)
        #expect(page.contains("https://boot.example/releases"))
        #expect(page.contains("connection refused"))
    }

    @Test func engineThreadsAndTheirLoad() {
        var snapshot = StatusSnapshot(
            now: 5, startedAt: 1, active: [], recent: [], refusals: [], outcomes: [:], refused: [:])
        snapshot.engine = StatusSnapshot.Engine(threads: 2, active: 1, adaptive: true, busy: [0.8754, 0.0012])
        #expect(snapshot.json.contains(#""engine":{"threads":2,"active":1,"adaptive":true,"busy":[0.875,0.001]}"#))
        let page = StatusPage.fragment(snapshot)
        #expect(page.contains("1 of 2 threads taking new requests (chosen by load); busy: thread 0 88%, thread 1 0%."))
    }
}
