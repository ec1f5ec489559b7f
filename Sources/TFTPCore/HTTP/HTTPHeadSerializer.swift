import NIOCore
import NIOHTTP1

/// The one writer of an HTTP/1.x response head: the status line, the fields, and the
/// `Connection` field, which is decided here from whether the connection stays open after
/// this answer (RFC 9112 §9.6: `close` on the last answer; RFC 9112 Appendix C.2.2:
/// `keep-alive` for an HTTP/1.0 client that asked to keep it). Planners and error answers
/// never write it themselves, so an answer that turns out to be the last (the server began
/// shutting down after it was planned) says `close` like any other.
enum HTTPHeadSerializer {
    /// The `Connection` field's value for an answer, or nil when none is needed (HTTP/1.1
    /// keeps a connection by default).
    static func connection(keepAlive: Bool, http10: Bool) -> String? {
        if !keepAlive { return "close" }
        return http10 ? "keep-alive" : nil
    }

    /// Appends the head to `out`. An HTTP/1.0 request is answered as 1.0, 1.1 (and a higher
    /// minor version, read as 1.1) as 1.1.
    static func write(
        status: HTTPResponseStatus, headers: HTTPHeaders, http10: Bool, keepAlive: Bool, into out: inout ByteBuffer
    ) {
        out.writeStaticString(http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeInteger(UInt8(ascii: " "))
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        for (name, value) in headers {
            field(name, value, into: &out)
        }
        if let connection = connection(keepAlive: keepAlive, http10: http10) {
            field("Connection", connection, into: &out)
        }
        out.writeStaticString("\r\n")
    }

    private static func field(_ name: String, _ value: String, into out: inout ByteBuffer) {
        out.writeString(name)
        out.writeStaticString(": ")
        out.writeString(value)
        out.writeStaticString("\r\n")
    }
}
