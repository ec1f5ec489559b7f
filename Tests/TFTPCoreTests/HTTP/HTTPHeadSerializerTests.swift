import NIOCore
import NIOHTTP1
import Testing

@testable import TFTPCore

/// The one head writer: status line by version, the fields in order, and the `Connection`
/// field from the final keep-alive decision (RFC 9112 §9.6, Appendix C.2.2).
@Suite struct HTTPHeadSerializerTests {
    private func head(http10: Bool, keepAlive: Bool) -> String {
        var out = ByteBuffer()
        HTTPHeadSerializer.write(
            status: .ok, headers: ["Content-Length": "3", "X-A": "b"], http10: http10, keepAlive: keepAlive,
            into: &out)
        return String(buffer: out)
    }

    @Test func http11KeepsAliveWithoutAField() {
        #expect(head(http10: false, keepAlive: true) == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\n")
    }

    @Test func theLastAnswerSaysClose() {
        #expect(
            head(http10: false, keepAlive: false)
                == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\nConnection: close\r\n\r\n")
        #expect(
            head(http10: true, keepAlive: false)
                == "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nX-A: b\r\nConnection: close\r\n\r\n")
    }

    @Test func http10KeepAliveIsSaid() {
        #expect(
            head(http10: true, keepAlive: true)
                == "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nX-A: b\r\nConnection: keep-alive\r\n\r\n")
    }
}
