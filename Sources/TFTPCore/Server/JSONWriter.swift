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

    mutating func field(_ name: String, _ value: Double) {
        key(name)
        text += value.isFinite ? String(value) : "null"
    }

    mutating func string(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
