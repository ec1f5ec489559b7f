import Foundation

/// The real `tftpd` binary, started on an ephemeral loopback port. Readiness is the
/// "listening" log line (a signal, not a sleep); logs are collected for assertions.
final class TFTPDProcess: @unchecked Sendable {
    let process = Process()
    let root: String
    private(set) var port: Int = 0
    /// The HTTP listener's port when started with `http: true`.
    private(set) var httpPort: Int = 0
    private(set) var httpsPort: Int = 0
    private let output = Pipe()
    private let lock = NSCondition()
    private var log = ""
    private var ended = false

    /// The directory holding the test bundle and the built executables.
    static var binaryDirectory: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // On Linux the tests run from <build>/<Package>PackageTests.xctest.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }

    static func binary(_ name: String) -> String {
        binaryDirectory.appendingPathComponent(name).path
    }

    /// `https`: the certificate and key files of an HTTPS listener on 127.0.0.1.
    init(
        root: String, host: String = "127.0.0.1", http: Bool = false, https: (cert: String, key: String)? = nil,
        arguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        self.root = root
        process.executableURL = URL(fileURLWithPath: Self.binary("tftpd"))
        process.arguments =
            ["--root", root, "--listen", "\(host.contains(":") ? "[\(host)]" : host):0", "--log-level", "debug"]
            + (http ? ["--http", "127.0.0.1:0"] : [])
            + (https.map { ["--https", "127.0.0.1:0", "--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
            + Self.privilegeArguments(arguments) + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            if data.isEmpty {
                self.ended = true
                handle.readabilityHandler = nil
            } else {
                self.log += String(decoding: data, as: UTF8.self)
            }
            self.lock.broadcast()
            self.lock.unlock()
        }
        try process.run()
        port = try port(fromLogLineContaining: "listening")
        if http {
            httpPort = try port(fromLogLineContaining: "accepting http connections")
        }
        if https != nil {
            httpsPort = try port(fromLogLineContaining: "accepting https connections")
        }
    }

    /// tftpd refuses to serve as root without --user or --allow-root; the suite runs as
    /// root in CI, so tests that do not choose get --allow-root.
    static func privilegeArguments(_ arguments: [String]) -> [String] {
        geteuid() == 0 && !arguments.contains("--user") && !arguments.contains("--allow-root") ? ["--allow-root"] : []
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Everything logged so far.
    var logText: String {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// Waits until a log line contains `text` and returns that line. The 30 s bound only
    /// keeps a broken build from hanging the suite.
    @discardableResult
    func waitForLog(containing text: String, count: Int = 1) throws -> String {
        let deadline = Date().addingTimeInterval(30)
        lock.lock()
        defer { lock.unlock() }
        while true {
            let lines = log.split(separator: "\n").filter { $0.contains(text) }
            if lines.count >= count { return String(lines[count - 1]) }
            if ended { throw TestFailure("tftpd ended before logging \"\(text)\":\n\(log)") }
            if !lock.wait(until: deadline) { throw TestFailure("no \"\(text)\" in the log:\n\(log)") }
        }
    }

    /// The port in the `address=HOST:PORT` of the first log line containing `text`.
    /// Any log format: `address=127.0.0.1:69 ` (text, logfmt) or `"address":"[::1]:69"`.
    func port(fromLogLineContaining text: String) throws -> Int {
        let line = try waitForLog(containing: text)
        guard let start = line.range(of: "address"),
            let match = line[start.upperBound...].firstMatch(of: #/:(\d+)(?=["\s,}]|$)/#),
            let port = Int(match.1)
        else { throw TestFailure("no port in \(line)") }
        return port
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
