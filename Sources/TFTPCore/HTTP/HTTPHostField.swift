/// The `Host` field's grammar (RFC 9110 §7.2: `uri-host [ ":" port ]`, with RFC 3986's
/// `IP-literal / IPv4address / reg-name`). A request whose Host is not of this shape gets
/// 400 (RFC 9112 §3.2); the value is never used to build a path or a URL.
enum HTTPHostField {
    /// Characters of a reg-name: unreserved, sub-delims and `%` (of a pct-encoding).
    private static let nameCharacters = Set(
        Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%".utf8))
    private static let literalCharacters = Set(Array("0123456789abcdefABCDEF:.vV-_~!$&'()*+,;=".utf8))

    static func isValid(_ value: String) -> Bool {
        var bytes = Substring(value).utf8[...]
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy(literalCharacters.contains) else { return false }
            bytes = bytes[bytes.index(after: close)...]
        } else {
            let end = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            guard bytes[..<end].allSatisfy(nameCharacters.contains) else { return false }
            bytes = bytes[end...]
        }
        guard let colon = bytes.first else { return true }
        return colon == UInt8(ascii: ":")
            && bytes.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
