import Glibc
import NIOCore

/// The progress line on a terminal: bytes, rate and, when the size is known, percent and
/// ETA. Stateless apart from the start time, so it can be called from the event loop.
struct ProgressMeter: Sendable {
    let started: NIODeadline

    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    func update(received: Int64, total: Int64?) {
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let rate = elapsed > 0 ? Double(received) / elapsed : 0
        var line = "\r\u{1B}[K" + Self.bytes(received)
        if let total, total > 0 {
            let percent = min(100, Double(received) * 100 / Double(total))
            line += " / \(Self.bytes(total)) \(Self.bar(percent)) \(Int(percent))%"
        }
        line += "  \(Self.rate(rate))"
        if let total, rate > 0, total > received {
            line += "  ETA \(Self.duration(Double(total - received) / rate))"
        }
        Self.emit(line)
    }

    /// Clears the progress line before the summary.
    func clear() { Self.emit("\r\u{1B}[K") }

    static func emit(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : format(value, decimals: 1) + " " + units[unit]
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        format(bytesPerSecond / 1e6, decimals: 1) + " MB/s"
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 60 ? "\(whole / 60)m\(whole % 60)s" : "\(whole)s"
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let scale = pow(10, Double(decimals))
        let rounded = (value * scale).rounded() / scale
        let whole = Int(rounded)
        let fraction = String(Int(((rounded - Double(whole)) * scale).rounded()))
        let padded = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        return decimals == 0 ? "\(whole)" : "\(whole).\(padded)"
    }

    private static func bar(_ percent: Double) -> String {
        let width = 20
        let filled = Int(percent / 100 * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
    }
}
