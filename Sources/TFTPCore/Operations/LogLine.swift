import Logging

/// A line the log writer makes on its own thread from plain values (docs/architecture.md,
/// "Log lines"): what an engine thread or an event loop hands over instead of text, so the
/// numbers and addresses become text off the thread that serves.
public protocol LogLine: Sendable {
    var level: Logger.Level { get }
    var message: String { get }
    /// The module it comes from (swift-log's source), shown by the `text` layout.
    var source: String { get }
    /// The fields in name order, as text (what `logfmt` and `json` lines quote).
    var fields: [(key: String, value: String)] { get }
    /// Appends ` key=value` for each of ``fields``, in name order: what the `text` layout
    /// writes of them. A line written once per transfer writes its values straight into the
    /// bytes instead (``TransferReport``).
    func appendTextFields(to out: inout [UInt8])
}

extension LogLine {
    public func appendTextFields(to out: inout [UInt8]) {
        for (key, value) in fields { out.appendField(key, value) }
    }
}

extension Array where Element == UInt8 {
    /// Appends ` key=value`, as the `text` layout writes a field.
    mutating func appendField(_ key: String, _ value: String) {
        appendFieldName(key)
        appendUTF8(value)
    }

    /// Appends ` key=`, for a value written after it.
    mutating func appendFieldName(_ key: String) {
        append(UInt8(ascii: " "))
        appendUTF8(key)
        append(UInt8(ascii: "="))
    }

    /// Appends the decimal digits of `value`.
    mutating func appendDecimal<T: BinaryInteger>(_ value: T) {
        if value < 0 {
            appendUTF8(String(value))
            return
        }
        var rest = UInt64(value)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }
}
