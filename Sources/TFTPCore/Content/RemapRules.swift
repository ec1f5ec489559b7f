import Glibc

/// tftp-hpa's remap file (`-m FILE`), read with its own rules so an existing file works
/// unchanged: one rule per line, `FLAGS REGEX [REPLACEMENT]`, `#` to the end of a line a
/// comment, a backslash keeping the next whitespace or `#` inside a field. The regex is POSIX
/// extended (`egrep`), matched against the name bytes. Flags:
///
/// - `r` replace the matched part by the replacement (none: remove it); `g` repeat until it
///   no longer matches;
/// - `i` match without regard to case;
/// - `e` stop after this rule if it matched; `s` start over from the first rule if it matched;
/// - `a` refuse the request if it matched (an access violation, HTTP 403);
/// - `G` only for reads, `P` only for writes (never: the server is read-only); `4`/`6` only
///   for IPv4/IPv6 clients; `~` apply when the regex does not match (not with `r`).
///
/// The replacement knows `\0`…`\9` (the match, its groups), `\i` (the client's address),
/// `\x` (the address in hex), `\U` `\L` `\E` (upper, lower, no case for what follows), and a
/// backslash before any other character for that character. Like tftp-hpa, a name is refused
/// after 1,024 rule steps (a rule set that loops).
///
/// The result is only a name: it still goes through ``RequestPath`` and the door beneath the
/// root, so no rule can lead outside it.
public final class RemapRules: @unchecked Sendable {
    // @unchecked: the compiled expressions are never changed after init, and glibc's
    // regexec may be called on one from several threads at once.

    /// A rule file that cannot be used, with the line that says why.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    struct Rule {
        var replace = false
        var global = false
        var ignoreCase = false
        var end = false
        var restart = false
        var abort = false
        var readsOnly = false
        var writesOnly = false
        var ipv4Only = false
        var ipv6Only = false
        var inverse = false
        var pattern: [UInt8]
        var replacement: [UInt8]
        var line: Int
    }

    static let maxSteps = 1024

    let rules: [Rule]
    private let expressions: [UnsafeMutablePointer<regex_t>]
    /// Whether a rule uses the client's address (`\i`, `\x`, `4`, `6`): the result then
    /// depends on who asks.
    public let dependsOnClient: Bool

    public var count: Int { rules.count }

    public init(parsing text: String) throws(ParseError) {
        var rules: [Rule] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = Self.fields(Array(line.utf8))
            guard !fields.isEmpty else { continue }
            let number = index + 1
            let flags = fields.removeFirst()
            guard let pattern = fields.first else { throw ParseError(line: number, reason: "no regular expression") }
            var rule = Rule(pattern: pattern, replacement: fields.count > 1 ? fields[1] : [], line: number)
            guard fields.count <= 2 else { throw ParseError(line: number, reason: "more than three fields") }
            for flag in flags {
                switch flag {
                case UInt8(ascii: "r"): rule.replace = true
                case UInt8(ascii: "g"): rule.global = true
                case UInt8(ascii: "i"): rule.ignoreCase = true
                case UInt8(ascii: "e"): rule.end = true
                case UInt8(ascii: "s"): rule.restart = true
                case UInt8(ascii: "a"): rule.abort = true
                case UInt8(ascii: "G"): rule.readsOnly = true
                case UInt8(ascii: "P"): rule.writesOnly = true
                case UInt8(ascii: "4"): rule.ipv4Only = true
                case UInt8(ascii: "6"): rule.ipv6Only = true
                case UInt8(ascii: "~"): rule.inverse = true
                default:
                    throw ParseError(
                        line: number, reason: "unknown flag \"\(String(decoding: [flag], as: UTF8.self))\"")
                }
            }
            if rule.replace && rule.inverse {
                throw ParseError(line: number, reason: "flags r and ~ exclude each other")
            }
            if rule.global && !rule.replace { throw ParseError(line: number, reason: "flag g needs flag r") }
            rules.append(rule)
        }
        var expressions: [UnsafeMutablePointer<regex_t>] = []
        for rule in rules {
            let expression = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
            let result = (rule.pattern + [0]).withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    regcomp(expression, $0.baseAddress!, REG_EXTENDED | (rule.ignoreCase ? REG_ICASE : 0))
                }
            }
            guard result == 0 else {
                var message = [CChar](repeating: 0, count: 256)
                regerror(result, expression, &message, message.count)
                expression.deallocate()
                for compiled in expressions {
                    regfree(compiled)
                    compiled.deallocate()
                }
                let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw ParseError(line: rule.line, reason: "regular expression: \(text)")
            }
            expressions.append(expression)
        }
        self.rules = rules
        self.expressions = expressions
        self.dependsOnClient = rules.contains { rule in
            rule.ipv4Only || rule.ipv6Only
                || zip(rule.replacement, rule.replacement.dropFirst()).contains {
                    $0 == UInt8(ascii: "\\") && ($1 == UInt8(ascii: "i") || $1 == UInt8(ascii: "x"))
                }
        }
    }

    deinit {
        for expression in expressions {
            regfree(expression)
            expression.deallocate()
        }
    }

    /// The fields of one line: split at unescaped whitespace, ended by an unescaped `#`;
    /// backslashes stay in the field (tftp-hpa passes them on to the regex and the
    /// replacement).
    static func fields(_ line: [UInt8]) -> [[UInt8]] {
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var escaped = false
        for byte in line {
            if !escaped && (byte == UInt8(ascii: "#")) { break }
            if !escaped && (byte == 0x20 || byte == 0x09 || byte == 0x0D) {
                if !current.isEmpty { fields.append(current) }
                current = []
                continue
            }
            escaped = !escaped && byte == UInt8(ascii: "\\")
            current.append(byte)
        }
        if !current.isEmpty { fields.append(current) }
        return fields
    }

    /// The name after the rules, or `.refusedByRule` (an `a` rule matched, or the rules
    /// looped).
    public func apply(_ name: [UInt8], client: Requester) throws(ContentError) -> [UInt8] {
        guard !rules.isEmpty, !name.contains(0) else { return name }
        var current = name
        var steps = 0
        var index = 0
        ruleLoop: while index < rules.count {
            let rule = rules[index]
            index += 1
            if rule.writesOnly || rule.ipv4Only && client.isIPv6 || rule.ipv6Only && !client.isIPv6 { continue }
            var matched: Bool
            var matchedOnce = false
            repeat {
                steps += 1
                guard steps <= Self.maxSteps else { throw .refusedByRule }
                var groups = [regmatch_t](repeating: regmatch_t(), count: 10)
                let found = (current + [0]).withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        regexec(expressions[index - 1], $0.baseAddress!, 10, &groups, 0) == 0
                    }
                }
                matched = found != rule.inverse
                guard matched else { break }
                matchedOnce = true
                if rule.abort { throw .refusedByRule }
                if rule.replace, found {
                    let start = Int(groups[0].rm_so)
                    let end = Int(groups[0].rm_eo)
                    let expansion = Self.expand(rule.replacement, in: current, groups: groups, client: client)
                    current = Array(current[..<start]) + expansion + Array(current[end...])
                    // An empty match replaced again and again would never end: stop here.
                    if start == end && rule.global { break }
                }
            } while rule.global
            if matchedOnce {
                if rule.end { break ruleLoop }
                if rule.restart { index = 0 }
            }
        }
        return current
    }

    /// The replacement with its escapes filled in.
    static func expand(_ replacement: [UInt8], in subject: [UInt8], groups: [regmatch_t], client: Requester) -> [UInt8]
    {
        enum Case { case none, upper, lower }
        var out: [UInt8] = []
        var mode = Case.none
        func emit(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                switch mode {
                case .none: out.append(byte)
                case .upper: out.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
                case .lower: out.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
                }
            }
        }
        var index = 0
        while index < replacement.count {
            let byte = replacement[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < replacement.count else {
                emit([byte])
                continue
            }
            let escape = replacement[index]
            index += 1
            switch escape {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let group = groups[Int(escape - UInt8(ascii: "0"))]
                if group.rm_so >= 0, group.rm_eo >= group.rm_so, Int(group.rm_eo) <= subject.count {
                    emit(subject[Int(group.rm_so)..<Int(group.rm_eo)])
                }
            case UInt8(ascii: "i"): emit(client.address.utf8)
            case UInt8(ascii: "x"): emit(client.hex.utf8)
            case UInt8(ascii: "U"): mode = .upper
            case UInt8(ascii: "L"): mode = .lower
            case UInt8(ascii: "E"): mode = .none
            default: emit([escape])
            }
        }
        return out
    }
}
