import Glibc
import Logging

/// `--log-format`: how one log line is written. `text` is swift-log's own stream format;
/// `logfmt` and `json` are for log collectors (Loki, Vector, journald's JSON mode): one
/// line per event, time first, then level, message and the metadata in key order.
public enum LogLineFormat: String, CaseIterable, Sendable {
    case text, logfmt, json

    /// The line for one event, without the newline. `time` is seconds and nanoseconds
    /// since the epoch (UTC).
    public func line(
        time: (seconds: Int, nanoseconds: Int), level: Logger.Level, message: String, metadata: Logger.Metadata
    ) -> String {
        let fields =
            [("ts", Self.timestamp(time)), ("level", level.rawValue), ("msg", message)]
            + metadata.sorted { $0.key < $1.key }.map { ($0.key, Self.flatten($0.value)) }
        switch self {
        case .json:
            return "{" + fields.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}"
        case .logfmt, .text:
            return fields.map { "\(Self.logfmtKey($0.0))=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        }
    }

    /// RFC 3339 in UTC with milliseconds: 2026-11-23T08:15:02.117Z.
    static func timestamp(_ time: (seconds: Int, nanoseconds: Int)) -> String {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(time.nanoseconds / 1_000_000), 3))Z"
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
