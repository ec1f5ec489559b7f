import Foundation
import Glibc

/// A raw TCP connection to the HTTP listener: sends exactly the bytes given and reads
/// responses by their Content-Length. Reads wait at most `timeout` seconds — a bound for
/// a broken server, not a timing.
final class RawHTTP {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestFailure("connect: \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Makes the close at the end of this connection a reset (SO_LINGER with no time), as a
    /// firmware that gives up does.
    func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Reads more bytes; false on EOF, error or timeout.
    private func fill() -> Bool {
        read() > 0
    }

    /// One recv: the byte count, 0 at EOF or a reset, -1 when the timeout passed.
    private func read() -> Int {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n > 0 { buffer += chunk[..<n] }
        if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return 0 }
        return n
    }

    /// Reads up to `count` body bytes and nothing more (for aborting a download).
    func readSome(_ count: Int) -> Int {
        while buffer.count < count { if !fill() { break } }
        return buffer.count
    }

    /// Everything read so far and until the server closes the connection (or the timeout
    /// passes): for a body cut short.
    func readUntilClosed() -> [UInt8] {
        while read() > 0 {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// The next response's head (status and fields), its body left unread.
    func head() -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        while Self.find(separator, in: buffer) == nil { if !fill() { return nil } }
        guard let end = Self.find(separator, in: buffer) else { return nil }
        let headText = String(decoding: buffer[..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: headers, body: [])
    }

    /// The next response; `bodyExpected: false` for a HEAD.
    func response(bodyExpected: Bool = true) -> Response? {
        guard var response = head() else { return nil }
        let status = response.status
        let length = bodyExpected && status != 304 ? Int(response.header("Content-Length") ?? "0") ?? 0 : 0
        while buffer.count < length { if !fill() { return nil } }
        response.body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return response
    }

    /// The first line of the next response, as sent (the rest stays unread).
    func statusLine() -> String? {
        while Self.find([13, 10], in: buffer) == nil { if !fill() { return nil } }
        guard let end = Self.find([13, 10], in: buffer) else { return nil }
        return String(decoding: buffer[..<end], as: UTF8.self)
    }

    /// True when the server closed the connection (EOF or reset) with nothing more to read;
    /// false when more bytes came or the timeout passed with the connection still open.
    func closedByServer() -> Bool {
        buffer.isEmpty && read() == 0
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count)
        where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
