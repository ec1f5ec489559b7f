/// The origin's manifest (`--origin-manifest`, in `sha256sum`'s format): a SHA-256 per
/// name, against which every file from the origin is checked before it is served. Lines are
/// `HEX  NAME` or `HEX *NAME` (binary mode); a leading `./` of a name is dropped; blank lines
/// and `#` comments are skipped; a line that does not read is skipped too (and counted, for
/// the log). Names are relative to the manifest's own folder, as `sha256sum -c` reads them:
/// `releases/SHA256SUMS` listing `vmlinuz` vouches for `releases/vmlinuz`.
public struct OriginManifest: Sendable, Equatable {
    public private(set) var digests: [String: String] = [:]
    public private(set) var unreadableLines = 0

    /// `directory`: the manifest's folder beneath the origin (`releases/`), or empty.
    public init(parsing text: String, directory: String = "") {
        let prefix = directory.isEmpty || directory.hasSuffix("/") ? directory : directory + "/"
        // "\r\n" is one Character in Swift: both ends of a line are separators.
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let hex = line.prefix(64)
            let rest = line.dropFirst(64)
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit), rest.hasPrefix(" ") else {
                unreadableLines += 1
                continue
            }
            var name = rest.dropFirst()
            if name.hasPrefix(" ") || name.hasPrefix("*") { name = name.dropFirst() }
            if name.hasPrefix("./") { name = name.dropFirst(2) }
            while name.hasPrefix("/") { name = name.dropFirst() }
            guard !name.isEmpty else {
                unreadableLines += 1
                continue
            }
            digests[prefix + name] = hex.lowercased()
        }
    }

    /// The digest the manifest gives `name`, if it lists it.
    public func digest(of name: String) -> String? { digests[name] }
}
