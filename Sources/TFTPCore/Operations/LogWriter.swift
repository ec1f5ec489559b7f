import Glibc
import Logging

/// The daemon's one writer of log lines: a thread of its own that formats what the other
/// threads hand it and writes it to stderr in batches, one write(2) per batch
/// (docs/architecture.md, "Log lines").
///
/// An engine thread that ends a transfer pays for a timestamp and a place in the queue; the
/// line's fields, its text and the system call are the writer's. In a profile of 1 KB
/// transfers at the default level, making and writing the line on the engine thread was 15%
/// of the server's CPU (docs/performance.md, "Per packet and per transfer").
///
/// The writer wakes when the queue stops being empty, waits ``batchDelay`` for more to
/// come, and writes what it has: a line reaches stderr at most a few milliseconds after it
/// was logged, in the order it was logged, stamped with the time it was logged. ``flush()``
/// waits until everything queued so far is written (the daemon's exit, a `critical` line).
/// If stderr stops taking lines (a full pipe nobody reads), the queue stops at ``limit``
/// lines and the rest are counted, not kept; the count is written once lines flow again.
public final class LogWriter: @unchecked Sendable {
    // @unchecked: `pending`, `queued`, `written`, `urgent` and `unthreaded` are touched under
    // `mutex` only; `batch` by the writer thread alone.

    /// One line to write: the handler that formats it, when it was logged, and what it says —
    /// a swift-log event, or a line the writer makes from plain values (``later(_:time:_:)``).
    struct Entry: Sendable {
        enum Event: Sendable {
            case ready(LogEvent)
            case later(any LogLine)
        }
        var handler: LineLogHandler
        var time: timespec
        var event: Event
    }

    /// How long the writer waits after the first line of a batch for more.
    public static let batchDelay: UInt32 = 5_000  // microseconds
    /// Lines the queue holds at most while stderr does not take them.
    public static let limit = 100_000

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: [Entry] = []
    private var queued = 0
    private var written = 0
    private var urgent = false
    /// Lines not kept because the queue was full, since the last batch.
    private var dropped = 0
    private var unthreaded = false
    private var batch: [Entry] = []
    private let descriptor: Int32

    /// A writer to `descriptor` (stderr unless told) whose thread starts now.
    public init(descriptor: Int32 = 2) {
        self.descriptor = descriptor
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        pending.reserveCapacity(256)
        batch.reserveCapacity(256)
        if !PosixThread.spawn(name: "tftpd-log", { [self] in run() }) {
            // No thread: every line is written at once by whoever logs it.
            unthreaded = true
        }
    }

    /// The wall clock now, as a line's time.
    static func now() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    /// Queues an event made now.
    func enqueue(_ event: LogEvent, handler: LineLogHandler) {
        add(Entry(handler: handler, time: Self.now(), event: .ready(event)), urgent: event.level >= .error)
        if event.level == .critical { flush() }
    }

    /// Queues a line the writer makes: what the caller would spend making its fields into
    /// text (numbers, addresses) is spent on the writer's thread. `time` is when it happened.
    public func later(_ handler: LineLogHandler, time: timespec? = nil, _ line: some LogLine) {
        add(Entry(handler: handler, time: time ?? Self.now(), event: .later(line)), urgent: false)
    }

    /// Waits until every line queued before the call is written.
    public func flush() {
        pthread_mutex_lock(mutex)
        let target = queued
        urgent = true
        pthread_cond_signal(wake)
        while written < target, !unthreaded { pthread_cond_wait(done, mutex) }
        pthread_mutex_unlock(mutex)
    }

    private func add(_ entry: Entry, urgent: Bool) {
        pthread_mutex_lock(mutex)
        if unthreaded {
            pthread_mutex_unlock(mutex)
            var stamps = LogStamps()
            var text: [UInt8] = []
            return write([entry], stamps: &stamps, text: &text)
        }
        guard pending.count < Self.limit else {
            dropped += 1
            pthread_mutex_unlock(mutex)
            return
        }
        let wasEmpty = pending.isEmpty
        pending.append(entry)
        queued += 1
        if urgent { self.urgent = true }
        if wasEmpty || urgent { pthread_cond_signal(wake) }
        pthread_mutex_unlock(mutex)
    }

    private func run() {
        var stamps = LogStamps()
        // The batch's lines as bytes, its room kept from one batch to the next.
        var text: [UInt8] = []
        while true {
            pthread_mutex_lock(mutex)
            while pending.isEmpty { pthread_cond_wait(wake, mutex) }
            let hurry = urgent
            pthread_mutex_unlock(mutex)
            // Let a batch gather: one write for every line of the next few milliseconds.
            if !hurry { usleep(Self.batchDelay) }
            pthread_mutex_lock(mutex)
            swap(&pending, &batch)
            urgent = false
            let lost = dropped
            dropped = 0
            pthread_mutex_unlock(mutex)
            let count = batch.count
            if lost > 0, let handler = batch.first?.handler {
                let record = LogRecord(
                    level: .warning, message: "log lines dropped: stderr did not keep up", source: "TFTPCore",
                    fields: [("lines", String(lost))])
                batch.insert(Entry(handler: handler, time: Self.now(), event: .later(record)), at: 0)
            }
            write(batch, stamps: &stamps, text: &text)
            batch.removeAll(keepingCapacity: true)
            pthread_mutex_lock(mutex)
            written += count
            pthread_cond_broadcast(done)
            pthread_mutex_unlock(mutex)
        }
    }

    /// Formats `entries` and writes them with as few write(2) calls as the kernel allows.
    private func write(_ entries: [Entry], stamps: inout LogStamps, text: inout [UInt8]) {
        text.removeAll(keepingCapacity: true)
        for entry in entries {
            let format = entry.handler.format
            let label = entry.handler.label
            switch entry.event {
            case .ready(let event):
                format.append(
                    entry.handler.record(for: event), time: entry.time, label: label, to: &text, stamps: &stamps)
            case .later(let line):
                format.append(line, time: entry.time, label: label, to: &text, stamps: &stamps)
            }
            text.append(UInt8(ascii: "\n"))
        }
        text.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                offset += count
            }
        }
    }
}
