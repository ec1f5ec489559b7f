/// A script rendered per machine: `{{ name }}` is replaced by the value of `name` (spaces
/// inside the braces allowed), and everything else is left as it is — iPXE's own `${name}`
/// settings in particular, which iPXE expands on the machine. A field that names no value,
/// or braces that do not close, is an error with its line, so a typo is found before a
/// machine boots with an empty kernel argument. docs/machines.md, "Templates".
public enum BootTemplate {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownName(String, line: Int)
        case unclosed(line: Int)

        public var description: String {
            switch self {
            case .unknownName(let name, let line): "line \(line): {{ \(name) }} names no value"
            case .unclosed(let line): "line \(line): {{ without }}"
            }
        }
    }

    /// The names a template uses, in order of first use (to check a template when it is read).
    public static func names(in template: String) throws(Failure) -> [String] {
        var names: [String] = []
        _ = try render(template) { name in
            if !names.contains(name) { names.append(name) }
            return ""
        }
        return names
    }

    public static func render(_ template: String, values: [String: String]) throws(Failure) -> String {
        try render(template) { values[$0] }
    }

    private static func render(_ template: String, value: (String) -> String?) throws(Failure) -> String {
        var out = ""
        var rest = Substring(template)
        var line = 1
        while let open = rest.firstRange(of: "{{") {
            let before = rest[..<open.lowerBound]
            out += before
            line += before.count(where: { $0 == "\n" })
            let inside = rest[open.upperBound...]
            guard let close = inside.firstRange(of: "}}") else { throw .unclosed(line: line) }
            let field = inside[..<close.lowerBound]
            let name = field.trimmingSpaces
            guard !field.contains("\n"), let text = value(name) else {
                if field.contains("\n") { throw .unclosed(line: line) }
                throw .unknownName(name, line: line)
            }
            out += text
            rest = inside[close.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
