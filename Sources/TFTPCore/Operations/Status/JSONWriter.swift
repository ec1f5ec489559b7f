/// A minimal JSON writer for the status API (no Foundation in the library): objects, arrays,
/// strings escaped per RFC 8259 §7, integers and numbers.
struct JSONWriter {
    private(set) var text = ""
    private var first = true

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        text += "{"
        first = true
        body(&self)
        text += "}"
        first = false
    }

    mutating func array<Item>(_ items: [Item], _ body: (Item, inout JSONWriter) -> Void) {
        text += "["
        for (index, item) in items.enumerated() {
            if index > 0 { text += "," }
            body(item, &self)
        }
        text += "]"
    }

    mutating func counts(_ counts: [String: Int]) {
        object { out in
            for key in counts.keys.sorted() { out.field(key, counts[key] ?? 0) }
        }
    }

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        string(name)
        text += ":"
    }

    mutating func field(_ name: String, _ body: (inout JSONWriter) -> Void) {
        key(name)
        body(&self)
    }

    mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { text += "null" }
    }

    mutating func field(_ name: String, _ value: some BinaryInteger) {
        key(name)
        text += String(value)
    }

    mutating func field(_ name: String, _ value: Int64?) {
        key(name)
        if let value { text += String(value) } else { text += "null" }
    }

    /// `null`, where a value would go.
    mutating func null() {
        text += "null"
    }

    mutating func field(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    /// An array of strings.
    mutating func strings(_ values: [String]) {
        array(values) { value, out in out.string(value) }
    }

    mutating func field(_ name: String, _ value: Double) {
        key(name)
        text += value.isFinite ? String(value) : "null"
    }

    /// A number rounded to three decimals, where a value would go.
    mutating func value(_ number: Double) {
        text += number.isFinite ? String((number * 1000).rounded() / 1000) : "null"
    }

    /// A string, escaped as the JSON log lines escape theirs (RFC 8259 §7).
    mutating func string(_ value: String) {
        text += LogLineFormat.jsonString(value)
    }
}
