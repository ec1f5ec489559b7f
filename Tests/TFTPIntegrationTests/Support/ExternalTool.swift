import Foundation

/// Runs a real client (curl, tftp-hpa, atftp, busybox) with a hard time limit through
/// coreutils' `timeout`, and returns its exit status and output.
enum ExternalTool {
    struct Result {
        var status: Int32
        var output: String
    }

    static func isInstalled(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment["PATH", default: "/usr/bin:/bin"].split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
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
