/// The one place where a name sent by a client becomes a path relative to the root.
///
/// Rules (docs/protocol.md, "Names and paths"):
/// - `\` is a separator (Windows-era PXE clients), like `/`;
/// - leading separators are dropped: `/pxelinux.0` means the root's `pxelinux.0`;
/// - empty and `.` components are dropped; any `..` component refuses the name outright
///   (no lexical resolution to get wrong);
/// - NUL anywhere, a name over ``maxLength`` bytes or a component over ``maxComponentLength``
///   bytes (NAME_MAX) refuses the name.
/// Bytes are otherwise kept as they are: Linux names are bytes, not necessarily UTF-8.
///
/// The kernel still has the last word: ``ContentRoot`` opens the result with
/// RESOLVE_BENEATH, so a symlink cannot lead out either.
public struct RequestPath: Equatable, Sendable, CustomStringConvertible {
    public static let maxLength = 1024
    public static let maxComponentLength = 255

    /// The relative path handed to openat2: the components joined by `/`; "." for the root.
    /// Made once, in one buffer, as the name is read: every lookup of a name (the small-file
    /// caches ask for it on every request) uses it as it is.
    public let relativePath: [UInt8]
    /// Whether the name ended in a separator (HTTP uses it for directory URLs).
    public let hasTrailingSeparator: Bool

    /// Sanitizes raw name bytes, or refuses them with ``ContentError/invalidName``.
    public init(_ raw: some Collection<UInt8>) throws(ContentError) {
        guard raw.count <= Self.maxLength else { throw .invalidName }
        let dot = UInt8(ascii: ".")
        var relative: [UInt8] = []
        relative.reserveCapacity(raw.count)
        // Where the component being read begins; a `/` precedes it unless it is the first.
        var start = 0
        var endedWithSeparator = false
        func flush() throws(ContentError) {
            let length = relative.count - start
            if length == 0 || (length == 1 && relative[start] == dot) {
                // Empty or ".": dropped, with the separator put before it.
                relative.removeSubrange(max(0, start - 1)...)
            } else if length == 2 && relative[start] == dot && relative[start + 1] == dot {
                throw .invalidName
            } else if length > Self.maxComponentLength {
                throw .invalidName
            }
        }
        for byte in raw {
            switch byte {
            case 0:
                throw .invalidName
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                try flush()
                if !relative.isEmpty { relative.append(UInt8(ascii: "/")) }
                start = relative.count
                endedWithSeparator = true
            default:
                relative.append(byte)
                endedWithSeparator = false
            }
        }
        try flush()
        self.relativePath = relative.isEmpty ? [dot] : relative
        self.hasTrailingSeparator = endedWithSeparator
    }

    /// Whether the path is the root itself (no components).
    public var isRoot: Bool { relativePath == [UInt8(ascii: ".")] }

    /// The components, none empty, `.` or `..`. Empty: the root itself.
    public var components: [[UInt8]] {
        isRoot ? [] : relativePath.split(separator: UInt8(ascii: "/")).map(Array.init)
    }

    /// The last component; nil for the root.
    public var lastComponent: [UInt8]? {
        isRoot ? nil : Array(relativePath.split(separator: UInt8(ascii: "/")).last ?? [])
    }

    public var description: String {
        String(decoding: relativePath, as: UTF8.self)
    }
}
