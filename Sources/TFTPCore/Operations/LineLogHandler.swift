import Glibc
import Logging

/// Writes each event as one ``LogLineFormat`` line to stderr. With a ``LogWriter`` (the
/// daemon's), the line is formatted and written by the writer's thread in a batch; without
/// one, at once with a single write(2). Either way lines from different threads never
/// interleave.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let format: LogLineFormat
    let label: String
    /// Where lines go to be formatted and written; nil: written by the caller.
    public let writer: LogWriter?

    public init(format: LogLineFormat, level: Logger.Level, label: String = "", writer: LogWriter? = nil) {
        self.format = format
        self.logLevel = level
        self.label = label
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        if let writer { return writer.enqueue(event, handler: self) }
        var line: [UInt8] = []
        var stamps = LogStamps()
        format.append(record(for: event), time: LogWriter.now(), label: label, to: &line, stamps: &stamps)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    /// What the event's line says: the handler's metadata under the event's, and its error.
    func record(for event: LogEvent) -> LogRecord {
        var merged = event.metadata ?? [:]
        if !metadata.isEmpty { merged.merge(metadata) { explicit, _ in explicit } }
        if let error = event.error { merged["error"] = "\(error)" }
        return LogRecord(
            level: event.level, message: event.message.description, source: event.source, metadata: merged,
            format: format)
    }
}
