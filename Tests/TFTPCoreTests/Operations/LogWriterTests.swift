import Dispatch
import Glibc
import Logging
import Testing

@testable import TFTPCore

@Suite struct LogWriterTests {
    /// A pipe whose read end does not block: [read, write].
    private func pipeEnds() throws -> [Int32] {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        return ends
    }

    /// Everything written to the pipe's read end so far.
    private func drain(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func linesFromManyThreadsArriveWholeAndInOrderAfterAFlush() throws {
        let ends = try pipeEnds()
        defer {
            close(ends[0])
            close(ends[1])
        }
        let writer = LogWriter(descriptor: ends[1])
        let handler = LineLogHandler(format: .logfmt, level: .info, label: "test", writer: writer)
        let logger = Logger(label: "test") { _ in handler }
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for line in 0..<50 { logger.info("line", metadata: ["thread": "\(thread)", "n": "\(line)"]) }
        }
        writer.flush()
        let lines = drain(ends[0]).split(separator: "\n")
        #expect(lines.count == 200)
        for thread in 0..<4 {
            let numbers = lines.filter { $0.contains(" thread=\(thread)") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("n=") }.flatMap { Int($0.dropFirst(2)) }
            }
            #expect(numbers == Array(0..<50))
        }
    }

    @Test func anEventMadeLaterKeepsTheTimeItWasLogged() throws {
        let ends = try pipeEnds()
        defer {
            close(ends[0])
            close(ends[1])
        }
        let writer = LogWriter(descriptor: ends[1])
        let handler = LineLogHandler(format: .logfmt, level: .info, label: "test", writer: writer)
        writer.later(
            handler, time: timespec(tv_sec: 1_795_392_000, tv_nsec: 5_000_000),
            LogRecord(level: .info, message: "transfer", source: "TFTPCore", fields: [("bytes", "42")]))
        writer.flush()
        #expect(drain(ends[0]) == "ts=2026-11-23T00:00:00.005Z level=info msg=transfer bytes=42\n")
    }
}
