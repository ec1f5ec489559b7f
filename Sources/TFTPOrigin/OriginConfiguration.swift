import NIOCore

/// What `--origin` and its flags say (docs/fleet.md): where names missing from the local root
/// are fetched from, where they are kept, how much, how long a copy is fresh, and the manifest
/// that vouches for them.
public struct OriginConfiguration: Sendable, Equatable {
    /// `http://` or `https://`, the base the requested name is appended to.
    public var url: String
    /// A PEM file of the CA that signed the origin's certificate (a private CA).
    public var certificateAuthority: String?
    /// The cache (`--cache`): files land in `files/`, partial downloads in `parts/`, what is
    /// known of each in `index/`.
    public var cacheDirectory: String
    /// The most bytes the cache keeps; the least recently used go first.
    public var cacheSize: Int64
    /// How long a cached copy is served before it is revalidated with the origin.
    public var freshness: TimeAmount
    /// A `SHA256SUMS`-style file at the origin that every file is checked against.
    public var manifest: String?
    /// What the origin's access log sees of this server (`User-Agent`).
    public var userAgent: String

    public init(
        url: String, certificateAuthority: String? = nil, cacheDirectory: String, cacheSize: Int64 = 8 << 30,
        freshness: TimeAmount = .seconds(60), manifest: String? = nil, userAgent: String = "netboot-tftpd"
    ) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.certificateAuthority = certificateAuthority
        self.cacheDirectory = cacheDirectory
        self.cacheSize = cacheSize
        self.freshness = freshness
        self.manifest = manifest
        self.userAgent = userAgent
    }

    /// How long an origin's "no such file" is believed (a boot storm's clients probe many
    /// names that do not exist: each is asked once in this while, not once per client).
    public var absenceFreshness: TimeAmount { min(freshness, .seconds(10)) }

    /// The URL of `name` (a sanitized relative path): each component percent-encoded but for
    /// RFC 3986's unreserved characters.
    public func url(of name: [UInt8]) -> String {
        var out = url + "/"
        for byte in name {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }
}
