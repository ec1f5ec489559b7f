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

    /// The components, none empty, `.` or `..`. Empty: the root itself.
    public let components: [[UInt8]]
    /// Whether the name ended in a separator (HTTP uses it for directory URLs).
    public let hasTrailingSeparator: Bool

    /// Sanitizes raw name bytes, or refuses them with ``ContentError/invalidName``.
    public init(_ raw: some Collection<UInt8>) throws(ContentError) {
        guard raw.count <= Self.maxLength else { throw .invalidName }
        var components: [[UInt8]] = []
        var current: [UInt8] = []
        var endedWithSeparator = false
        func flush() throws(ContentError) {
            defer { current.removeAll(keepingCapacity: true) }
            switch current {
            case [], [UInt8(ascii: ".")]:
                return
            case [UInt8(ascii: "."), UInt8(ascii: ".")]:
                throw .invalidName
            default:
                guard current.count <= Self.maxComponentLength else { throw .invalidName }
                components.append(current)
            }
        }
        for byte in raw {
            switch byte {
            case 0:
                throw .invalidName
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                try flush()
                endedWithSeparator = true
            default:
                current.append(byte)
                endedWithSeparator = false
            }
        }
        try flush()
        self.components = components
        self.hasTrailingSeparator = endedWithSeparator
    }

    /// The relative path handed to openat2: components joined by `/`; "." for the root.
    public var relativePath: [UInt8] {
        guard !components.isEmpty else { return [UInt8(ascii: ".")] }
        return Array(components.joined(separator: [UInt8(ascii: "/")]))
    }

    public var description: String {
        String(decoding: relativePath, as: UTF8.self)
    }
}
