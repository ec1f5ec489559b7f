import Foundation
import Testing

/// Runs a real client (curl, tftp-hpa, atftp, busybox) with a hard time limit through
/// coreutils' `timeout`, and returns its exit status and output.
enum ExternalTool {
    struct Result {
        var status: Int32
        var output: String
    }

    /// Whether `name` (a command on PATH, or an absolute path) can be run.
    static func isInstalled(_ name: String) -> Bool {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) }
        return ProcessInfo.processInfo.environment["PATH", default: "/usr/bin:/bin"].split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// Under `CI=true` (`.ci/run`) every peer must be there: a missing one fails the test.
    static let everyPeerRequired = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether a test should use `name`: installed, or required (then its absence fails).
    static func shouldUse(_ name: String) -> Bool {
        isInstalled(name) || everyPeerRequired
    }

    @discardableResult
    static func run(_ arguments: [String], input: String? = nil, seconds: Int = 60, directory: String? = nil) throws
        -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [String(seconds)] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// A tool started in the background, for tests that play the other side meanwhile.
    final class Running {
        let process = Process()
        private let output = Pipe()

        init(_ arguments: [String], seconds: Int, directory: String?) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = [String(seconds)] + arguments
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// SIGINT to the tool itself, like Ctrl-C. Sent to `timeout`'s child directly:
        /// `timeout` waits with the mask it inherited from the test runner, which may
        /// block SIGINT, so it would not pass the signal on.
        func interrupt() {
            let pid = process.processIdentifier
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) {
                kill(child, SIGINT)
            }
        }

        func wait() -> Result {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        }
    }

    static func start(_ arguments: [String], seconds: Int = 60, directory: String? = nil) throws -> Running {
        try Running(arguments, seconds: seconds, directory: directory)
    }
}

extension Trait where Self == ConditionTrait {
    /// For a test that runs peer tools (a command on PATH, or an absolute path): where one
    /// is missing the test is skipped by name with the reason, so `swift test` passes on a
    /// machine with nothing but Swift; under `CI=true` it runs anyway, and the missing tool
    /// fails it.
    static func requires(_ tools: String...) -> Self {
        let missing = tools.filter { !ExternalTool.isInstalled($0) }
        return .enabled(
            if: missing.isEmpty || ExternalTool.everyPeerRequired,
            Comment(
                rawValue: "needs \(missing.joined(separator: ", ")), not installed (sudo .ci/run installs the peers)"))
    }
}
