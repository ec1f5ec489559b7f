import Glibc
import Logging

/// `--log-format`: how one log line is written. `text` is swift-log's own stream format
/// (its `StreamLogHandler`'s layout, kept to the character); `logfmt` and `json` are for log
/// collectors (Loki, Vector, journald's JSON mode): one line per event, time first, then
/// level, message and the metadata in key order.
public enum LogLineFormat: String, CaseIterable, Sendable {
    case text, logfmt, json

    /// The line for one event, without the newline. `time` is seconds and nanoseconds
    /// since the epoch (UTC). `label` and `source` (the logging module) appear in `text`
    /// lines only.
    public func line(
        time: (seconds: Int, nanoseconds: Int), level: Logger.Level, message: String, metadata: Logger.Metadata,
        label: String = "", source: String = ""
    ) -> String {
        var out: [UInt8] = []
        var stamps = LogStamps()
        append(
            LogRecord(level: level, message: message, source: source, metadata: metadata, format: self),
            time: timespec(tv_sec: time.seconds, tv_nsec: time.nanoseconds), label: label, to: &out, stamps: &stamps)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record's line (without the newline) to `out` as UTF-8; `stamps` keeps the
    /// last second's time text, so a batch of lines formats the clock once a second. Bytes,
    /// not a `String`: a transfer's line is some forty pieces, and appending each to a
    /// string costs several times its copy (docs/architecture.md, "Log lines").
    func append(
        _ record: some LogLine, time: timespec, label: String, to out: inout [UInt8], stamps: inout LogStamps
    ) {
        switch self {
        case .text:
            // `2026-12-06T22:15:02+0000 info tftpd: bytes=1024 client=127.0.0.1:40000 [TFTPCore] transfer`:
            // local time to the second, level, label, the fields in key order, the source
            // module in brackets, the message — swift-log's `StreamLogHandler` line, which
            // operators' scripts have read since the first release.
            out.append(contentsOf: stamps.local(Int(time.tv_sec)))
            out.append(UInt8(ascii: " "))
            out.appendUTF8(record.level.rawValue)
            if !label.isEmpty {
                out.append(UInt8(ascii: " "))
                out.appendUTF8(label)
            }
            out.append(UInt8(ascii: ":"))
            record.appendTextFields(to: &out)
            out.append(UInt8(ascii: " "))
            out.append(UInt8(ascii: "["))
            out.appendUTF8(record.source)
            out.append(UInt8(ascii: "]"))
            out.append(UInt8(ascii: " "))
            out.appendUTF8(record.message)
        case .logfmt:
            out.appendUTF8("ts=")
            stamps.appendUTC(Int(time.tv_sec), milliseconds: Int(time.tv_nsec) / 1_000_000, to: &out)
            out.appendUTF8(" level=")
            out.appendUTF8(record.level.rawValue)
            out.appendUTF8(" msg=")
            out.appendUTF8(Self.logfmtValue(record.message))
            for (key, value) in record.fields {
                out.append(UInt8(ascii: " "))
                out.appendUTF8(Self.logfmtKey(key))
                out.append(UInt8(ascii: "="))
                out.appendUTF8(Self.logfmtValue(value))
            }
        case .json:
            out.appendUTF8("{\"ts\":\"")
            stamps.appendUTC(Int(time.tv_sec), milliseconds: Int(time.tv_nsec) / 1_000_000, to: &out)
            out.appendUTF8("\",\"level\":\"")
            out.appendUTF8(record.level.rawValue)
            out.appendUTF8("\",\"msg\":")
            out.appendUTF8(Self.jsonString(record.message))
            for (key, value) in record.fields {
                out.append(UInt8(ascii: ","))
                out.appendUTF8(Self.jsonString(key))
                out.append(UInt8(ascii: ":"))
                out.appendUTF8(Self.jsonString(value))
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Local time as `strftime("%Y-%m-%dT%H:%M:%S%z")`.
    static func localTimestamp(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return "<unknown>" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let count = strftime(buffer.baseAddress!, 64, "%Y-%m-%dT%H:%M:%S%z", &parts)
            return String(
                decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count), as: UTF8.self)
        }
    }

    /// RFC 3339 in UTC with milliseconds: 2026-11-23T08:15:02.117Z.
    static func timestamp(_ time: (seconds: Int, nanoseconds: Int)) -> String {
        var stamps = LogStamps()
        var out: [UInt8] = []
        stamps.appendUTC(time.seconds, milliseconds: time.nanoseconds / 1_000_000, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `2026-11-23T08:15:02` (UTC), the part of ``timestamp(_:)`` that changes once a second.
    static func utcSeconds(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
    }

    static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(flatten).joined(separator: ",")
        case .dictionary(let values):
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\(flatten($0.value))" }.joined(separator: ",")
        }
    }

    /// Keys keep letters, digits, `_`, `.` and `-`; anything else becomes `_`.
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(
            key.unicodeScalars.map {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)
                    ? Character($0) : "_"
            })
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// Bare when it has no space, `=`, `"`, `\` or control character and is not empty;
    /// otherwise quoted with `"` and `\` escaped and control characters as \n, \t or \u{..}.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
            }
        guard needsQuotes else { return value }
        return "\"" + escaped(value) + "\""
    }

    static func jsonString(_ value: String) -> String {
        "\"" + escaped(value) + "\""
    }

    /// JSON string escaping (RFC 8259 §7), which logfmt readers accept too.
    private static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends the string's UTF-8 bytes (one copy; a small string's from the stack).
    @inline(__always)
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
