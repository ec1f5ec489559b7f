import Testing

@testable import TFTPCore

/// The status page's rendering, pure: escaping (a client chooses its file names), grouping
/// by client, the caps that keep it usable with a thousand transfers at once.
@Suite struct StatusPageTests {
    private func finished(_ client: String, _ file: String, _ outcome: String, at: Int64) -> StatusSnapshot.Finished {
        .init(
            client: client, file: file, requested: "", granted: "", outcome: outcome,
            error: outcome == "refused" ? "1 not found" : nil, bytes: 10, durationMilliseconds: 1.5, retransmits: 0,
            endedAt: at)
    }

    private func snapshot(active: Int = 0, recent: [StatusSnapshot.Finished] = []) -> StatusSnapshot {
        StatusSnapshot(
            now: 1_000_000, startedAt: 0,
            active: (0..<active).map {
                .init(
                    client: "192.0.2.\($0 % 250):\(1000 + $0)", file: "f\($0)", requested: "", granted: "blksize=1468",
                    bytes: 100, size: 400, elapsedMilliseconds: 1000, retransmits: 0, state: "sending")
            },
            recent: recent, refusals: [], outcomes: ["completed": recent.count], refused: [:])
    }

    @Test func namesAreEscaped() {
        let hostile = "<script>alert('x')</script>&\""
        let html = StatusPage.fragment(snapshot(recent: [finished("192.0.2.1:5", hostile, "refused", at: 1)]))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"))
        #expect(DirectoryListing.escape("a<b>&'\"") == "a&lt;b&gt;&amp;&#39;&quot;")
    }

    /// A machine's boot reads as one sequence: grouped by its address (ports change with
    /// every request), oldest first within the group, the most recent client first.
    @Test func recentTransfersAreGroupedByClientAddress() {
        let recent = [
            finished("192.0.2.7:3002", "vmlinuz", "completed", at: 3000),
            finished("[2001:db8::9]:4000", "grubx64.efi", "completed", at: 2500),
            finished("192.0.2.7:3001", "pxelinux.cfg/default", "completed", at: 2000),
            finished("192.0.2.7:3000", "pxelinux.cfg/01-52-54-00-12-34-56", "refused", at: 1000),
        ]
        let html = StatusPage.fragment(snapshot(recent: recent))
        let seven = html.range(of: "<div class=\"client\">192.0.2.7</div>")!
        let nine = html.range(of: "<div class=\"client\">[2001:db8::9]</div>")!
        #expect(seven.lowerBound < nine.lowerBound)
        let missing = html.range(of: "pxelinux.cfg/01-52-54-00-12-34-56")!
        let fallback = html.range(of: "pxelinux.cfg/default")!
        let kernel = html.range(of: "vmlinuz")!
        #expect(missing.lowerBound < fallback.lowerBound && fallback.lowerBound < kernel.lowerBound)
        #expect(html.contains("refused: 1 not found"))
        #expect(StatusPage.host(of: "[2001:db8::9]:4000") == "[2001:db8::9]")
    }

    /// A thousand running: the table shows 200 and counts the rest; the JSON has them all.
    @Test func aThousandRunningTransfersAreCapped() {
        let big = snapshot(active: 1000)
        let html = StatusPage.fragment(big)
        #expect(html.components(separatedBy: "<tr><td>").count - 1 == StatusPage.activeRows)
        #expect(html.contains("and 800 more."))
        #expect(html.contains("In progress (1000)"))
        #expect(html.utf8.count < 200_000)
        #expect(big.json.components(separatedBy: "\"state\":\"sending\"").count - 1 == 1000)
    }

    @Test func pageHasTheFragmentAndNothingFromElsewhere() {
        let page = StatusPage.page(snapshot())
        #expect(page.contains("<main id=\"status\">"))
        #expect(page.contains("No transfer is running."))
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("src="))
    }
}
