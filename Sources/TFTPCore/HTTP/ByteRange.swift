/// A Range header (RFC 9110 §14.1.2) against a file of known size.
public enum ByteRange: Equatable, Sendable {
    /// No usable Range header: serve the whole file (a syntactically invalid header is
    /// ignored, RFC 9110 §14.2).
    case none
    /// One satisfiable range, clipped to the file.
    case single(Range<Int64>)
    /// More than one range: answered with the whole file.
    case multiple
    /// Valid syntax, but no byte of the file is in it: 416.
    case unsatisfiable

    public static func parse(_ value: String, size: Int64) -> ByteRange {
        let trimmed = value.trimmingSpaces
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .none }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        guard specs.count == 1 else { return specs.isEmpty ? .none : .multiple }
        let spec = specs[0].trimmingSpaces
        guard let dash = spec.firstIndex(of: "-") else { return .none }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // "-N": the last N bytes.
            guard let suffix = number(last) else { return .none }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .single(max(0, size - suffix)..<size)
        }
        guard let start = number(first) else { return .none }
        var end = size - 1
        if !last.isEmpty {
            guard let given = number(last), given >= start else { return .none }
            end = min(given, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .single(start..<(end + 1))
    }

    /// Decimal digits only, at most 18 (no overflow on a hostile value).
    private static func number(_ text: some StringProtocol) -> Int64? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }
}
