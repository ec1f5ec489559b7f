import ArgumentParser
import NIOCore
import TFTPCore
import TFTPOrigin

/// Where names missing from the root come from: an origin, and the cache its files are kept
/// in (docs/fleet.md). Off unless `--origin` names one.
struct OriginOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Fetch a name that is not in --root from this http:// or https:// URL (the name appended), keep it in --cache and serve it from there over TFTP and HTTP (docs/fleet.md).",
            valueName: "url"))
    var origin: String?

    @Option(
        name: .customLong("origin-ca"),
        help: ArgumentHelp(
            "A PEM file of the CA that signed the origin's certificate (for --origin and a --machines URL), instead of the system's.",
            valueName: "file"))
    var originCA: String?

    @Option(
        help: ArgumentHelp(
            "The cache directory for --origin (created if missing; what it holds is served after a restart). Also keeps the last --machines version fetched from a URL.",
            valueName: "dir"))
    var cache: String?

    @Option(
        help: ArgumentHelp(
            "The most the cache keeps, e.g. 500M, 20G; the least recently used files go first.", valueName: "bytes"))
    var cacheSize: String = "8G"

    @Option(
        name: .customLong("origin-ttl"),
        help: ArgumentHelp(
            "How long a cached file is served before the origin is asked whether it changed (ETag, Last-Modified), e.g. 30s, 5m, 1h.",
            valueName: "duration"))
    var originTTL: String = "60s"

    @Option(
        name: .customLong("origin-manifest"),
        help: ArgumentHelp(
            "A file at the origin in sha256sum's format (e.g. SHA256SUMS): every file is checked against it before it is served; a file it does not list, or whose digest differs, is refused.",
            valueName: "name"))
    var originManifest: String?

    func validate() throws {
        if let origin {
            guard Self.isURL(origin) else {
                throw ValidationError("--origin \(origin): expected an http:// or https:// URL")
            }
            guard cache != nil else {
                throw ValidationError("--origin needs --cache DIR (where fetched files are kept)")
            }
        } else {
            if originManifest != nil { throw ValidationError("--origin-manifest needs --origin") }
        }
        guard Self.bytes(cacheSize) != nil else {
            throw ValidationError("--cache-size \(cacheSize): expected a number of bytes, e.g. 500M or 20G")
        }
        guard Self.duration(originTTL) != nil else {
            throw ValidationError("--origin-ttl \(originTTL): expected a duration, e.g. 30s, 5m or 1h")
        }
        if let originManifest, (try? RequestPath(Array(originManifest.utf8))) == nil {
            throw ValidationError("--origin-manifest \(originManifest): expected a file name beneath the origin")
        }
    }

    /// What `--origin` says, or nil without it. `userAgent` is what the origin's access log
    /// sees of this server.
    func configuration(userAgent: String) -> OriginConfiguration? {
        guard let origin, let cache else { return nil }
        return OriginConfiguration(
            url: origin, certificateAuthority: originCA, cacheDirectory: cache,
            cacheSize: Self.bytes(cacheSize) ?? 8 << 30, freshness: Self.duration(originTTL) ?? .seconds(60),
            manifest: originManifest, userAgent: userAgent)
    }

    static func isURL(_ text: String) -> Bool {
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            return !text.dropFirst(scheme.count).isEmpty
        }
        return false
    }

    /// `123`, `500K`, `500M`, `20G`, `1T` (powers of 1024).
    static func bytes(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var scale: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value > 0, value <= Int64.max / scale else { return nil }
        return value * scale
    }

    /// `90`, `90s`, `5m`, `1h` (a number alone is seconds); zero revalidates every request.
    static func duration(_ text: String) -> TimeAmount? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        var digits = Substring(text.lowercased())
        var scale: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value >= 0, value <= 365 * 86400 / scale else { return nil }
        return .seconds(value * scale)
    }
}
