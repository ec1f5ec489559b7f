import NIOCore
import NIOHTTP1

/// Reads HTTP/1.1 requests out of a connection's bytes, with no I/O: bytes in, one request
/// head (or a refusal) out, its body skipped. A server of static files needs little of the
/// protocol, so this takes the strict side of every choice RFC 9112 leaves open, and every
/// rule has a case in docs/http.md's conformance table:
///
/// - the request line is `method SP target SP HTTP/d.d` with single spaces (§3); empty lines
///   before it are skipped (§2.2); a line that ends in a bare LF is refused (§2.2 allows
///   either);
/// - another major version is 505, a higher minor one is read as 1.1 (RFC 9110 §2.5),
///   HTTP/0.9's line without a version is 505;
/// - a field line starting with whitespace (obs-fold, §5.2), whitespace before the colon
///   (§5.1), a CTL in a value (bare CR, NUL; §2.2, RFC 9110 §5.5) are 400;
/// - framing (§6): Transfer-Encoding with Content-Length, a coding list that does not end in
///   `chunked`, an invalid or disagreeing Content-Length are 400 and the end of the
///   connection; HTTP/1.0 with Transfer-Encoding is delivered (the planner answers 400) and
///   nothing after it is read;
/// - a head larger than the limit is 414 while still in the request line, 431 after it.
///
/// Bodies (Content-Length or chunked) are read and dropped.
public struct HTTPRequestParser: Sendable {
    /// Why the bytes are not a request; every one ends the connection after its answer.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(Malformation)
        case uriTooLong
        case headerFieldsTooLarge
        case versionNotSupported

        public var status: HTTPResponseStatus {
            switch self {
            case .malformed: .badRequest
            case .uriTooLong: .uriTooLong
            case .headerFieldsTooLarge: .requestHeaderFieldsTooLarge
            case .versionNotSupported: .httpVersionNotSupported
            }
        }

        public var description: String {
            switch self {
            case .malformed(let part): "malformed \(part)"
            case .uriTooLong: "request target too long"
            case .headerFieldsTooLarge: "header fields too large"
            case .versionNotSupported: "HTTP version not supported"
            }
        }
    }

    /// What part of a head does not read (all answered 400), for the access log.
    public enum Malformation: String, Equatable, Sendable, CustomStringConvertible {
        case requestLine = "request line"
        case requestTarget = "request target"
        case version
        case fieldLine = "field line"
        case fieldName = "field name"
        case fieldValue = "field value"
        case bareCR = "bare CR"
        case bareLF = "bare LF"
        case lineEnd = "line end"
        case lineTooLong = "line too long"
        case contentLength = "Content-Length"
        case transferEncodingWithContentLength = "Transfer-Encoding with Content-Length"
        case transferCoding = "transfer coding"
        case chunkSizeLine = "chunk size line"
        case chunkSize = "chunk size"
        case chunkEnd = "chunk end"
        case trailerSection = "trailer section"

        public var description: String { rawValue }
    }

    public enum Next: Equatable, Sendable {
        /// A complete request head. Its body, if any, is skipped by the following calls.
        case request(HTTPRequestHead)
        /// The bytes so far are part of a request; read more.
        case needMore
        /// Answer with the failure's status and close; the parser reads nothing more.
        case failure(Failure)
    }

    private enum State: Sendable {
        case head
        case body(remaining: Int64)
        case chunkSize
        case chunkData(remaining: Int64)
        case chunkDataEnd
        case trailers(bytes: Int)
        /// After a failure or a message whose end cannot be known.
        case stopped
    }

    public let maxHeadBytes: Int
    public let maxFields: Int
    private var state = State.head
    /// Bytes of the current head already searched for its end (resumed, never rescanned).
    private var scanned = 0

    public init(maxHeadBytes: Int = 16 * 1024, maxFields: Int = 256) {
        self.maxHeadBytes = maxHeadBytes
        self.maxFields = maxFields
    }

    /// Whether bytes of a head have arrived and its end has not (the header timeout runs).
    public func isInsideHead(_ buffer: ByteBuffer) -> Bool {
        if case .head = state { return buffer.readableBytes > 0 }
        return false
    }

    /// Consumes what it can from `buffer` and says what it found.
    public mutating func next(_ buffer: inout ByteBuffer) -> Next {
        while true {
            switch state {
            case .stopped:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return .needMore
            case .head:
                return readHead(&buffer)
            case .body(let remaining):
                let left = Self.drop(remaining, from: &buffer)
                guard left > 0 else {
                    state = .head
                    continue
                }
                state = .body(remaining: left)
                return .needMore
            case .chunkSize:
                guard let line = takeLine(&buffer, limit: 1024) else { return .needMore }
                guard case .success(let bytes) = line else { return fail(.malformed(.chunkSizeLine)) }
                let digits = bytes.prefix { Self.hexValue($0) != nil }
                let rest = bytes.dropFirst(digits.count)
                guard !digits.isEmpty, digits.count <= 15,
                    rest.isEmpty || rest.first == UInt8(ascii: ";")
                        || rest.first == UInt8(ascii: " ") || rest.first == UInt8(ascii: "\t")
                else { return fail(.malformed(.chunkSize)) }
                let size = digits.reduce(Int64(0)) { $0 * 16 + Int64(Self.hexValue($1)!) }
                state = size == 0 ? .trailers(bytes: 0) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let left = Self.drop(remaining, from: &buffer)
                guard left > 0 else {
                    state = .chunkDataEnd
                    continue
                }
                state = .chunkData(remaining: left)
                return .needMore
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return .needMore }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { return fail(.malformed(.chunkEnd)) }
                state = .chunkSize
            case .trailers(let count):
                guard let line = takeLine(&buffer, limit: maxHeadBytes) else { return .needMore }
                guard case .success(let bytes) = line, count + bytes.count + 2 <= maxHeadBytes else {
                    return fail(.malformed(.trailerSection))
                }
                state = bytes.isEmpty ? .head : .trailers(bytes: count + bytes.count + 2)
            }
        }
    }

    /// Drops up to `count` body bytes from `buffer`; how many are still to come.
    private static func drop(_ count: Int64, from buffer: inout ByteBuffer) -> Int64 {
        let dropped = Int(min(count, Int64(buffer.readableBytes)))
        buffer.moveReaderIndex(forwardBy: dropped)
        return count - Int64(dropped)
    }

    private mutating func fail(_ failure: Failure) -> Next {
        state = .stopped
        return .failure(failure)
    }

    /// One CRLF-terminated line of a chunked body (without the CRLF), nil when it has not
    /// all arrived, a failure for a bare LF or a line over `limit`.
    private func takeLine(_ buffer: inout ByteBuffer, limit: Int) -> Result<[UInt8], Failure>? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            return view.count > limit ? .failure(.malformed(.lineTooLong)) : nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == UInt8(ascii: "\r"), length - 1 <= limit else {
            return .failure(.malformed(.lineEnd))
        }
        let line = Array(view[view.startIndex..<(newline - 1)])
        buffer.moveReaderIndex(forwardBy: length + 1)
        return .success(line)
    }

    private mutating func readHead(_ buffer: inout ByteBuffer) -> Next {
        // Empty lines before a request line are skipped (RFC 9112 §2.2).
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            scanned = max(0, scanned - 2)
        }
        guard buffer.readableBytes > 0 else { return .needMore }
        enum Scan {
            case end(Int)
            case partial(sawLineEnd: Bool)
            case bareLF
        }
        // Find CRLF CRLF, refusing a bare LF on the way; resume where the last read stopped.
        let resume = max(0, scanned - 3)
        let scan = buffer.withUnsafeReadableBytes { bytes -> Scan in
            var index = resume
            var sawLineEnd = false
            while index < bytes.count {
                if bytes[index] == 0x0A {
                    guard index > 0, bytes[index - 1] == 0x0D else { return .bareLF }
                    sawLineEnd = true
                    if index >= 3, bytes[index - 2] == 0x0A { return .end(index + 1) }
                }
                index += 1
            }
            return .partial(sawLineEnd: sawLineEnd)
        }
        switch scan {
        case .bareLF:
            return fail(.malformed(.bareLF))
        case .partial(let sawLineEnd):
            let count = buffer.readableBytes
            scanned = count
            if count > maxHeadBytes {
                let requestLineDone =
                    sawLineEnd || buffer.readableBytesView.prefix(maxHeadBytes).contains(UInt8(ascii: "\n"))
                return fail(requestLineDone ? .headerFieldsTooLarge : .uriTooLong)
            }
            return .needMore
        case .end(let length):
            scanned = 0
            if length > maxHeadBytes {
                let view = buffer.readableBytesView
                let lineEnd = view.firstIndex(of: UInt8(ascii: "\n")).map { $0 - view.startIndex } ?? length
                return fail(lineEnd > maxHeadBytes ? .uriTooLong : .headerFieldsTooLarge)
            }
            let next = buffer.withUnsafeReadableBytes { bytes in
                parseHead(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)]))
            }
            buffer.moveReaderIndex(forwardBy: length)
            return next
        }
    }

    /// The head without its final CRLF CRLF: lines separated by CRLF (bare LFs were refused).
    private mutating func parseHead(_ head: UnsafeRawBufferPointer) -> Next {
        var lineStart = 0
        var bareCR = false
        /// The next line's bounds, nil at the end (or at a CR not followed by LF).
        func nextLine() -> Range<Int>? {
            guard lineStart <= head.count, !bareCR else { return nil }
            var end = lineStart
            while end < head.count, head[end] != 0x0D { end += 1 }
            if end < head.count && (end + 1 >= head.count || head[end + 1] != 0x0A) {
                bareCR = true
                return nil
            }
            defer { lineStart = end + 2 }
            return lineStart..<end
        }
        guard let requestLine = nextLine(), !bareCR else { return fail(.malformed(.requestLine)) }
        // method SP target SP version
        var spaces: [Int] = []
        for index in requestLine where head[index] == 0x20 {
            spaces.append(index)
            if spaces.count > 2 { return fail(.malformed(.requestLine)) }
        }
        let method = requestLine.lowerBound..<(spaces.first ?? requestLine.upperBound)
        guard !method.isEmpty, method.allSatisfy({ Self.isTokenCharacter(head[$0]) }) else {
            return fail(.malformed(.requestLine))
        }
        if spaces.count == 1, spaces[0] + 1 < requestLine.upperBound, head[spaces[0] + 1] == UInt8(ascii: "/") {
            return fail(.versionNotSupported)  // HTTP/0.9: no version
        }
        guard spaces.count == 2 else { return fail(.malformed(.requestLine)) }
        let target = (spaces[0] + 1)..<spaces[1]
        guard !target.isEmpty, target.allSatisfy({ head[$0] > 0x20 && head[$0] != 0x7F }) else {
            return fail(.malformed(.requestTarget))
        }
        let version = (spaces[1] + 1)..<requestLine.upperBound
        guard version.count == 8, zip(version.prefix(5), Self.httpSlash).allSatisfy({ head[$0] == $1 }),
            Self.isDigit(head[version.lowerBound + 5]), head[version.lowerBound + 6] == UInt8(ascii: "."),
            Self.isDigit(head[version.lowerBound + 7])
        else { return fail(.malformed(.version)) }
        guard head[version.lowerBound + 5] == UInt8(ascii: "1") else { return fail(.versionNotSupported) }
        let minor = head[version.lowerBound + 7] == UInt8(ascii: "0") ? 0 : 1
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        var transferEncoding: [String] = []
        var contentLengths: [String] = []
        var fields = 0
        while let line = nextLine() {
            fields += 1
            guard fields <= maxFields else { return fail(.headerFieldsTooLarge) }
            var colon = line.lowerBound
            while colon < line.upperBound, head[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < line.upperBound else { return fail(.malformed(.fieldLine)) }
            let name = line.lowerBound..<colon
            guard !name.isEmpty, name.allSatisfy({ Self.isTokenCharacter(head[$0]) }) else {
                return fail(.malformed(.fieldName))
            }
            var start = colon + 1
            var end = line.upperBound
            while start < end, head[start] == 0x20 || head[start] == 0x09 { start += 1 }
            while end > start, head[end - 1] == 0x20 || head[end - 1] == 0x09 { end -= 1 }
            for index in start..<end {
                let byte = head[index]
                guard byte >= 0x20 && byte != 0x7F || byte == 0x09 else { return fail(.malformed(.fieldValue)) }
            }
            let nameText = String(decoding: UnsafeRawBufferPointer(rebasing: head[name]), as: UTF8.self)
            let valueText = String(decoding: UnsafeRawBufferPointer(rebasing: head[start..<end]), as: UTF8.self)
            if name.count == 17, Self.equalsIgnoringCase(head[name], "transfer-encoding") {
                transferEncoding += valueText.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            } else if name.count == 14, Self.equalsIgnoringCase(head[name], "content-length") {
                contentLengths += valueText.split(separator: ",", omittingEmptySubsequences: false).map {
                    $0.trimmingSpaces
                }
            }
            headers.add(name: nameText, value: valueText)
        }
        guard !bareCR else { return fail(.malformed(.bareCR)) }
        let head = HTTPRequestHead(
            version: HTTPVersion(major: 1, minor: minor),
            method: HTTPMethod(
                rawValue: String(decoding: UnsafeRawBufferPointer(rebasing: head[method]), as: UTF8.self)),
            uri: String(decoding: UnsafeRawBufferPointer(rebasing: head[target]), as: UTF8.self), headers: headers)
        // Framing (RFC 9112 §6).
        if !transferEncoding.isEmpty {
            guard contentLengths.isEmpty else { return fail(.malformed(.transferEncodingWithContentLength)) }
            if minor == 0 {
                // Faulty framing: the planner answers it, nothing after it is read.
                state = .stopped
                return .request(head)
            }
            guard transferEncoding.last == "chunked", transferEncoding.filter({ $0 == "chunked" }).count == 1 else {
                return fail(.malformed(.transferCoding))
            }
            state = .chunkSize
        } else if let first = contentLengths.first {
            guard contentLengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 15,
                first.utf8.allSatisfy(Self.isDigit), let length = Int64(first)
            else { return fail(.malformed(.contentLength)) }
            if length > 0 { state = .body(remaining: length) }
        }
        return .request(head)
    }

    private static let httpSlash = Array("HTTP/".utf8)

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    private static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return zip(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
            .allSatisfy { ($0 | 0x20) == $1 || $0 == $1 }
    }
}
