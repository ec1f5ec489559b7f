/// Filename rewriting for legacy clients (`--map PREFIX=REPLACEMENT`), applied to the name
/// a client sent before it goes to ``RequestPath``: the sanitizer and the root check still
/// judge the result, so a rule cannot open a way out of the root.
///
/// Rules apply in the order given, each at most once, each to the result of the ones
/// before it: with `tftpboot/=` and `pxelinux.cfg/=site-a/pxelinux.cfg/`, the name
/// `/tftpboot/pxelinux.cfg/default` becomes `site-a/pxelinux.cfg/default`. Matching is on
/// bytes, case-sensitive, after leading `/` are dropped from the name (and from the prefix),
/// since clients differ in whether they send one (docs/protocol.md, "Names and paths").
///
/// With `--map-file`, tftp-hpa's rule file (``RemapRules``) runs first, on the name as the
/// client sent it (an HTTP path without its leading `/`), as tftp-hpa runs it; the prefix
/// rules then apply to its result.
public struct FilenameMap: Equatable, Sendable {
    public struct Rule: Equatable, Sendable, CustomStringConvertible {
        public var prefix: [UInt8]
        public var replacement: [UInt8]

        public init(prefix: [UInt8], replacement: [UInt8]) {
            self.prefix = Array(prefix.drop { $0 == UInt8(ascii: "/") })
            self.replacement = replacement
        }

        /// `PREFIX=REPLACEMENT`, split at the first `=`; the prefix may not be empty (after
        /// leading `/`), the replacement may (a rule that strips a prefix).
        public init?(parsing text: String) {
            let bytes = Array(text.utf8)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            self.init(prefix: Array(bytes[..<equals]), replacement: Array(bytes[(equals + 1)...]))
            guard !prefix.isEmpty, !prefix.contains(0), !replacement.contains(0) else { return nil }
        }

        public var description: String {
            "\(String(decoding: prefix, as: UTF8.self))=\(String(decoding: replacement, as: UTF8.self))"
        }
    }

    public var rules: [Rule]
    /// tftp-hpa's rules from `--map-file`, applied first (the version in use when a name is
    /// rewritten: the file may be read again while tftpd runs).
    public var remap: RemapFile?

    public init(_ rules: [Rule] = [], remap: RemapFile? = nil) {
        self.rules = rules
        self.remap = remap
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.rules == b.rules && a.remap === b.remap
    }

    /// Whether the result depends on who asks (a remap rule uses the client's address).
    public var dependsOnClient: Bool { remap?.rules.dependsOnClient ?? false }

    /// Moves on whenever the rules change (a re-read map file): names rewritten before are
    /// not to be used again.
    public var generation: UInt64 { remap?.generation ?? 0 }

    /// The name after the remap file and every prefix rule; the name itself when there are
    /// no rules; `.refusedByRule` when a remap rule refuses it.
    public func apply(_ name: [UInt8], client: Requester = .unknown) throws(ContentError) -> [UInt8] {
        let name = try remap?.rules.apply(name, client: client) ?? name
        guard !rules.isEmpty else { return name }
        var current = Array(name.drop { $0 == UInt8(ascii: "/") })
        for rule in rules where current.starts(with: rule.prefix) {
            current = rule.replacement + current[rule.prefix.count...]
            current = Array(current.drop { $0 == UInt8(ascii: "/") })
        }
        return current
    }
}
