import Glibc
import NIOCore

@testable import TFTPCore

/// A raw UDP socket on loopback for packet-level tests: sends exactly the bytes given
/// and receives with a bounded wait (a safety bound for a broken server, not a timing).
final class UDPPeer {
    let fd: Int32
    let family: Int32

    init(family: Int32 = AF_INET) throws {
        self.family = family
        fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Binds to `port` (0: an ephemeral one) on an IPv4 loopback address (to play a
    /// server, or a client from another address of 127.0.0.0/8) and returns the port.
    func bindLoopback(_ host: String = "127.0.0.1", port: Int = 0) throws -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestFailure("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ bytes: [UInt8], port: Int, host: String = "127.0.0.1") {
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    func send(_ packet: Packet, port: Int, host: String = "127.0.0.1") {
        send(Array(packet.encoded().readableBytesView), port: port, host: host)
    }

    /// The next datagram's bytes and its source port, or nil when none comes within the
    /// bound (for protocols other than TFTP).
    func receiveBytes() -> (bytes: [UInt8], port: Int)? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer[..<n]), Int(UInt16(bigEndian: address.sin_port)))
    }

    /// The next datagram and its source port, or nil when none comes within the bound.
    func receive(nonBlocking: Bool = false) -> (packet: Result<Packet, PacketDecodingError>, port: Int)? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, &buffer, buffer.count, nonBlocking ? Int32(MSG_DONTWAIT) : 0, $0, &length)
            }
        }
        guard n >= 0 else { return nil }
        let port: Int = withUnsafePointer(to: &storage) {
            if Int32($0.pointee.ss_family) == AF_INET6 {
                return $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
            return $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                Int(UInt16(bigEndian: $0.pointee.sin_port))
            }
        }
        return (Packet.decode(ByteBuffer(bytes: buffer[..<n])), port)
    }

    /// Sends an RRQ and follows a lockstep transfer to the end, acknowledging every
    /// block; returns the bytes, the server's TID port, or the ERROR it got.
    func fetch(
        _ name: [UInt8],
        options: [TransferOption] = [],
        port: Int,
        host: String = "127.0.0.1",
        beforeAck: ((UInt16, Int) -> Void)? = nil
    ) -> (bytes: [UInt8], tid: Int?, error: (TFTPErrorCode, String)?) {
        send(.readRequest(Request(filename: name, mode: .octet, options: options)), port: port, host: host)
        return follow(host: host, beforeAck: beforeAck)
    }

    /// Follows the transfer of a request already sent: the first answer from a port not in
    /// `ignoring` fixes the server's TID (or `tid` does), every block is acknowledged, and
    /// the bytes from block `first` on are returned. `blockSize`: the one an OACK already
    /// read granted.
    func follow(
        host: String = "127.0.0.1", ignoring: Set<Int> = [], tid known: Int? = nil, from first: UInt16 = 1,
        blockSize granted: Int = 512, beforeAck: ((UInt16, Int) -> Void)? = nil
    ) -> (bytes: [UInt8], tid: Int?, error: (TFTPErrorCode, String)?) {
        var bytes: [UInt8] = []
        var tid = known
        var blockSize = granted
        var expected = first
        while let (decoded, from) = receive() {
            guard !ignoring.contains(from) else { continue }
            if tid == nil { tid = from }
            guard from == tid else { continue }
            switch decoded {
            case .success(.optionAcknowledgement(let acknowledged)):
                if let size = acknowledged.first(where: { $0.key == "blksize" }) { blockSize = Int(size.value) ?? 512 }
                send(.ack(block: 0), port: from, host: host)
            case .success(.data(let block, let payload)):
                if block == expected {
                    bytes += payload.readableBytesView
                    expected &+= 1
                }
                beforeAck?(block, from)
                send(.ack(block: block), port: from, host: host)
                if block == expected &- 1 && payload.readableBytes < blockSize { return (bytes, tid, nil) }
            case .success(.error(let code, let message)):
                return (bytes, tid, (code, message))
            default:
                return (bytes, tid, (.notDefined, "unexpected \(decoded)"))
            }
        }
        return (bytes, tid, (.notDefined, "no answer"))
    }
}
