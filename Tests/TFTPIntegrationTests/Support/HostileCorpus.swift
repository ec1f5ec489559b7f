import Foundation
import Testing

/// The hostile datagrams of `fixtures/hostile/tftp-listener.txt`, each with the answer it
/// must get (the file's header says how it is written).
struct HostileCase: CustomTestStringConvertible, Sendable {
    enum Answer: Equatable, Sendable {
        case silence
        case error(UInt16)
        /// DATA 1 with this many bytes of payload.
        case data(Int)
        /// An OACK with exactly these options, in this order.
        case oack([String])
    }

    var name: String
    var datagram: [UInt8]
    var answer: Answer

    var testDescription: String { name }

    /// Every case in the corpus file. A line it cannot read is a failure of the corpus, not
    /// a case to skip.
    static func load() throws -> [HostileCase] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/hostile/tftp-listener.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        var cases: [HostileCase] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let fields = trimmed.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, let datagram = bytes(fields[1]), let answer = answer(fields[2]) else {
                throw CorpusError(line: index + 1, text: String(line))
            }
            cases.append(HostileCase(name: fields[0], datagram: datagram, answer: answer))
        }
        return cases
    }

    struct CorpusError: Error, CustomStringConvertible {
        var line: Int
        var text: String
        var description: String { "tftp-listener.txt:\(line): cannot read \(text)" }
    }

    private static func answer(_ text: String) -> Answer? {
        let words = text.split(separator: " ").map(String.init)
        switch words.first {
        case "silence" where words.count == 1: return .silence
        case "error" where words.count == 2: return UInt16(words[1]).map { .error($0) }
        case "data" where words.count == 2: return Int(words[1]).map { .data($0) }
        case "oack" where words.count >= 2: return .oack(Array(words.dropFirst()))
        default: return nil
        }
    }

    /// Hex bytes, quoted texts, and `*N` after a quoted text or a parenthesised group.
    private static func bytes(_ text: String) -> [UInt8]? {
        var scanner = Substring(text)
        return group(&scanner, closing: false)
    }

    private static func group(_ text: inout Substring, closing: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        while true {
            text = text.drop { $0 == " " }
            guard let first = text.first else { return closing ? nil : out }
            var piece: [UInt8]
            if first == ")" {
                guard closing else { return nil }
                text = text.dropFirst()
                return out
            } else if first == "(" {
                text = text.dropFirst()
                guard let inner = group(&text, closing: true) else { return nil }
                piece = inner
            } else if first == "\"" {
                let rest = text.dropFirst()
                guard let end = rest.firstIndex(of: "\"") else { return nil }
                piece = Array(rest[..<end].utf8)
                text = rest[rest.index(after: end)...]
            } else {
                let hex = text.prefix(2)
                guard hex.count == 2, let byte = UInt8(hex, radix: 16) else { return nil }
                piece = [byte]
                text = text.dropFirst(2)
            }
            if text.first == "*" {
                let digits = text.dropFirst().prefix { $0.isNumber }
                guard let count = Int(digits) else { return nil }
                text = text.dropFirst(1 + digits.count)
                piece = Array([[UInt8]](repeating: piece, count: count).joined())
            }
            out += piece
        }
    }
}
