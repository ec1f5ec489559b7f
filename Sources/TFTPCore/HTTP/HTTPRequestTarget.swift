/// The path of an HTTP request target (RFC 9112 §3.2 origin-form), percent-decoded into
/// bytes and handed to the same ``RequestPath`` sanitizer TFTP uses, so `%2e%2e`, `%2f`,
/// `%5c` and `%00` get exactly the treatment their decoded bytes get over TFTP.
public enum HTTPRequestTarget {
    /// Why a target cannot be used.
    public enum Problem: Error, Equatable, Sendable {
        /// Not origin-form (`*`, authority-form) or a malformed percent escape.
        case malformed
        /// The decoded name was refused by the sanitizer.
        case content(ContentError)
    }

    /// Decodes `/a/b%20c?query#frag` into a sanitized path. The query and fragment are
    /// ignored (static files only). The absolute form `http://host/path` (RFC 9112 §3.2.2)
    /// is accepted for its path.
    /// `map` rewrites the decoded name before the sanitizer, as for TFTP; a directory URL
    /// keeps its trailing `/`.
    public static func path(
        _ target: String, map: FilenameMap = .init(), client: Requester = .unknown
    ) -> Result<RequestPath, Problem> {
        var bytes = Array(target.utf8)
        if let end = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            bytes.removeSubrange(end...)
        }
        let schemeLength =
            bytes.starts(with: Array("http://".utf8)) ? 7 : bytes.starts(with: Array("https://".utf8)) ? 8 : 0
        if schemeLength > 0 {
            let afterScheme = schemeLength
            guard let slash = bytes[afterScheme...].firstIndex(of: UInt8(ascii: "/")) else {
                return decodeAndSanitize([UInt8(ascii: "/")], map: map, client: client)
            }
            bytes.removeSubrange(..<slash)
        }
        guard bytes.first == UInt8(ascii: "/") else { return .failure(.malformed) }
        return decodeAndSanitize(bytes, map: map, client: client)
    }

    /// The target's path as sent (still percent-encoded, without scheme and authority when
    /// in absolute form) and what follows it (`?query` or `#fragment`, possibly empty).
    public static func split(_ target: String) -> (path: Substring, suffix: Substring) {
        let end = target.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? target.endIndex
        var path = target[..<end]
        for scheme in ["http://", "https://"] where path.hasPrefix(scheme) {
            let authority = path.dropFirst(scheme.count)
            path = authority.firstIndex(of: "/").map { authority[$0...] } ?? "/"
        }
        return (path, target[end...])
    }

    /// The value of `name` in the target's query (`?mac=52:54:00:12:34:56&x=1`), percent-
    /// decoded; nil when the query does not give it.
    public static func queryValue(_ name: String, in target: String) -> String? {
        guard let start = target.firstIndex(of: "?") else { return nil }
        let query = target[target.index(after: start)...].prefix { $0 != "#" }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            // A `%` without two hex digits after it stays as it is here: nothing to refuse.
            let bytes = percentDecoded(Array(parts[1].utf8), plusIsSpace: true, keepMalformed: true) ?? []
            return String(decoding: bytes, as: UTF8.self)
        }
        return nil
    }

    private static func decodeAndSanitize(
        _ bytes: [UInt8], map: FilenameMap, client: Requester
    ) -> Result<RequestPath, Problem> {
        guard let decoded = percentDecoded(bytes, plusIsSpace: false, keepMalformed: false) else {
            return .failure(.malformed)
        }
        do {
            // The remap file sees the name as a TFTP client would send it: no leading `/`.
            let name = map.remap == nil || decoded.first != UInt8(ascii: "/") ? decoded : Array(decoded.dropFirst())
            let mapped = try map.apply(name, client: client)
            // A directory URL keeps its trailing `/` (a rule may have changed the rest).
            return .success(try RequestPath(mapped))
        } catch {
            return .failure(.content(error))
        }
    }

    /// Percent-decodes `bytes` (RFC 3986 §2.1). In a query, `plusIsSpace` reads `+` as a
    /// space (HTML forms). A `%` not followed by two hex digits is kept as it is when
    /// `keepMalformed`, else the whole is refused (nil).
    private static func percentDecoded(_ bytes: [UInt8], plusIsSpace: Bool, keepMalformed: Bool) -> [UInt8]? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hex(bytes[index + 1]),
                let low = hex(bytes[index + 2])
            {
                decoded.append(high << 4 | low)
                index += 3
                continue
            }
            if byte == UInt8(ascii: "%") && !keepMalformed { return nil }
            decoded.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return decoded
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Percent-encodes one name for a URL path segment (RFC 3986 unreserved kept).
    public static func encode(_ name: [UInt8]) -> String {
        var out = ""
        for byte in name {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0xF)])
            }
        }
        return out
    }
}
