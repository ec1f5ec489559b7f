import Foundation
import Logging
import Testing

@testable import TFTPCore

@Suite struct LogLineFormatTests {
    private let time = (seconds: 1_795_392_000, nanoseconds: 123_456_789)

    @Test func timestampIsRFC3339UTCWithMilliseconds() {
        #expect(LogLineFormat.timestamp(time) == "2026-11-23T00:00:00.123Z")
        #expect(LogLineFormat.timestamp((0, 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func textIsSwiftLogsStreamLayout() {
        let line = LogLineFormat.text.line(
            time: time, level: .info, message: "transfer", metadata: ["file": "a b", "bytes": "42"], label: "tftpd",
            source: "TFTPCore")
        // The local time to the second and its offset, then what StreamLogHandler writes.
        let stamp = LogLineFormat.localTimestamp(time.seconds)
        #expect(stamp.count == 24 && stamp.dropFirst(10).hasPrefix("T"))
        #expect(line == stamp + " info tftpd: bytes=42 file=a b [TFTPCore] transfer")
        let bare = LogLineFormat.text.line(
            time: time, level: .notice, message: "stopped", metadata: [:], label: "tftpd", source: "TFTPCore")
        #expect(bare == stamp + " notice tftpd: [TFTPCore] stopped")
    }

    @Test func logfmtQuotesOnlyWhatNeedsIt() {
        let line = LogLineFormat.logfmt.line(
            time: time, level: .notice, message: "transfer",
            metadata: ["file": "a b\"c", "bytes": "42", "empty": "", "odd key": "x\ny"])
        #expect(
            line
                == #"ts=2026-11-23T00:00:00.123Z level=notice msg=transfer bytes=42 empty="" file="a b\"c" odd_key="x\ny""#
        )
    }

    @Test func jsonLinesParseBackToTheSameValues() throws {
        let hostile = "quote\" backslash\\ newline\n tab\t bell\u{7} é"
        let line = LogLineFormat.json.line(
            time: time, level: .info, message: "request", metadata: ["target": "\(hostile)", "status": "404"])
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["target"] == hostile)
        #expect(object?["status"] == "404")
        #expect(object?["msg"] == "request")
        #expect(object?["level"] == "info")
        #expect(!line.contains("\n"))
    }
}
