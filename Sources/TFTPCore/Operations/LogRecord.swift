import Logging

/// What one log line says, ready to be written in any ``LogLineFormat``: its level, message,
/// the module it came from and its fields in name order.
public struct LogRecord: LogLine {
    public var level: Logger.Level
    public var message: String
    public var source: String
    public var fields: [(key: String, value: String)]

    /// `fields` must be in name order (the lines list them so).
    public init(level: Logger.Level, message: String, source: String, fields: [(key: String, value: String)]) {
        self.level = level
        self.message = message
        self.source = source
        self.fields = fields
    }

    /// From swift-log's metadata: values as `text` lines have always shown them (a value's
    /// description) or, for `logfmt` and `json`, flattened (lists joined with commas).
    init(level: Logger.Level, message: String, source: String, metadata: Logger.Metadata, format: LogLineFormat) {
        self.init(
            level: level, message: message, source: source,
            fields: metadata.sorted { $0.key < $1.key }.map {
                (key: $0.key, value: format == .text ? $0.value.description : LogLineFormat.flatten($0.value))
            })
    }
}

/// The time text of the last second a writer formatted: a batch of lines reads the clock's
/// calendar once a second, not once a line.
struct LogStamps {
    private var localSecond = Int.min
    private var localText: [UInt8] = []
    private var utcSecond = Int.min
    private var utcText: [UInt8] = []

    /// `2026-12-06T22:15:02+0000`, local time.
    mutating func local(_ seconds: Int) -> [UInt8] {
        if seconds != localSecond {
            localSecond = seconds
            localText = Array(LogLineFormat.localTimestamp(seconds).utf8)
        }
        return localText
    }

    /// Appends `2026-12-06T22:15:02.117Z`, UTC.
    mutating func appendUTC(_ seconds: Int, milliseconds: Int, to out: inout [UInt8]) {
        if seconds != utcSecond {
            utcSecond = seconds
            utcText = Array(LogLineFormat.utcSeconds(seconds).utf8)
        }
        out.append(contentsOf: utcText)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(milliseconds / 100 % 10))
        out.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
        out.append(UInt8(ascii: "Z"))
    }
}
