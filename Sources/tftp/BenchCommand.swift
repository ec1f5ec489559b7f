import ArgumentParser
import Glibc
import NIOCore
import NIOPosix
import TFTPCore

/// `tftp bench`: many transfers at once against a boot server, for people who want to
/// know what a rack powering on will do to theirs. Prints one summary line.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a TFTP server: N transfers, C at a time.",
        discussion: """
            Prints one line: transfers, ok, failed, bytes, seconds, MBps (10^6 B/s of \
            payload), transfers_per_s, p50_ms, p99_ms, retransmits; then one line per \
            distinct failure. Exit status 0 only if every transfer succeeded.
            """
    )

    @Argument(help: "The server: HOST, HOST:PORT, [IPv6] or [IPv6]:PORT.")
    var server: String

    @Argument(help: "The file to fetch.")
    var file: String

    @Option(name: .short, help: "Total transfers.")
    var n = 100

    @Option(name: .short, help: "Transfers at once.")
    var c = 10

    @OptionGroup var transfer: TransferFlags

    @Option(
        help: ArgumentHelp(
            "Compare every transfer with this local file; repeatable: with several (versions rolled out during the run), each transfer must equal exactly one of them, whole.",
            valueName: "file"))
    var verify: [String] = []

    @Option(help: "Milliseconds to stay after the last ACK (0: none, the default for load tests).")
    var dally = 0

    func validate() throws {
        guard n > 0, c > 0, dally >= 0 else { throw ValidationError("-n, -c must be positive, --dally not negative") }
    }

    func run() async throws {
        // One socket per transfer at once: -c 1000 needs more than the usual 1024.
        DescriptorLimit.raiseToHardLimit()
        let address = try GetCommand.resolve(server)
        let versions: [[UInt8]] = try verify.map { path in
            guard let bytes = Self.readFile(path) else { throw ValidationError("cannot read \(path)") }
            return bytes
        }
        let tally = VerifyingSink.Tally(versions: versions.count)
        let configuration = ClientTransfer.Configuration(
            blockSize: transfer.blksize, windowSize: transfer.windowsize,
            retransmit: RetransmitPolicy(initialTimeout: .milliseconds(500), maxRetries: transfer.retries),
            dally: .milliseconds(Int64(dally)))
        let filename = Array(file.utf8)
        let client = TFTPClient()
        let started = NIODeadline.now()
        var reports: [ClientReport] = []
        reports.reserveCapacity(n)
        await withTaskGroup(of: ClientReport?.self) { group in
            var launched = 0
            func launch() {
                launched += 1
                group.addTask {
                    try? await client.get(
                        filename, from: address, configuration: configuration,
                        into: VerifyingSink(versions: versions, tally: tally))
                }
            }
            while launched < min(c, n) { launch() }
            for await report in group {
                if let report { reports.append(report) }
                if launched < n { launch() }
            }
        }
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        var line = Self.summary(reports, total: n, seconds: seconds)
        if versions.count > 1 { line += " versions=" + tally.counts.map(String.init).joined(separator: ",") }
        print(line)
        var failures: [String: Int] = [:]
        for report in reports {
            if case .completed = report.outcome { continue }
            failures[report.outcome.description.replacing("\"", with: "'"), default: 0] += 1
        }
        if reports.count < n { failures["could not open a socket", default: 0] += n - reports.count }
        for (reason, count) in failures.sorted(by: { $0.value > $1.value }) {
            print("fail count=\(count) reason=\"\(reason)\"")
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    static func summary(_ reports: [ClientReport], total: Int, seconds: Double) -> String {
        let ok = reports.filter { if case .completed = $0.outcome { true } else { false } }
        let bytes = ok.reduce(Int64(0)) { $0 + $1.bytes }
        let latencies = ok.map { Double($0.duration.nanoseconds) / 1e6 }.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        let fields: [(String, String)] = [
            ("transfers", "\(total)"), ("ok", "\(ok.count)"), ("failed", "\(total - ok.count)"), ("bytes", "\(bytes)"),
            ("seconds", ProgressMeter.format(seconds, decimals: 3)),
            ("MBps", ProgressMeter.format(Double(bytes) / seconds / 1e6, decimals: 2)),
            ("transfers_per_s", ProgressMeter.format(Double(ok.count) / seconds, decimals: 1)),
            ("p50_ms", ProgressMeter.format(percentile(0.5), decimals: 3)),
            ("p99_ms", ProgressMeter.format(percentile(0.99), decimals: 3)),
            ("retransmits", "\(reports.reduce(0) { $0 + $1.retransmits })"),
            ("blksize", "\(ok.first?.blockSize ?? 0)"), ("windowsize", "\(ok.first?.windowSize ?? 0)"),
        ]
        return fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
        }
    }
}
