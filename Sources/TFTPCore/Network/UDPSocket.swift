import CTFTPShims
import Glibc

/// The few UDP socket operations the engine needs, over raw descriptors: non-blocking,
/// close-on-exec, errors as ``UDPSocket/Failure`` values. No protocol knowledge here.
enum UDPSocket {
    /// A system call that failed, and its errno.
    struct Failure: Error, CustomStringConvertible, Equatable {
        var operation: String
        var errno: Int32
        var description: String { "\(operation): \(String(cString: strerror(errno)))" }
    }

    /// A new non-blocking UDP socket of the address's family.
    static func open(family: sa_family_t) throws(Failure) -> Int32 {
        let fd = socket(
            Int32(family), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(operation: "socket", errno: errno) }
        return fd
    }

    /// Binds `fd` to `address`.
    static func bind(_ fd: Int32, to address: PeerAddress) throws(Failure) {
        let result = address.withSocketAddress { Glibc.bind(fd, $0, $1) }
        guard result == 0 else { throw Failure(operation: "bind \(address.display)", errno: errno) }
    }

    /// Restricts `fd` to one network interface (`SO_BINDTODEVICE`; no privilege needed
    /// since Linux 5.7): it receives only what arrives there and sends only out of it.
    static func bindToDevice(_ fd: Int32, _ interface: String) throws(Failure) {
        let result = interface.withCString { name in
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
        }
        guard result == 0 else { throw Failure(operation: "SO_BINDTODEVICE \(interface)", errno: errno) }
    }

    /// Sets an integer socket option.
    static func set(_ fd: Int32, level: Int32, option: Int32, _ value: Int32) throws(Failure) {
        var value = value
        guard setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw Failure(operation: "setsockopt \(option)", errno: errno)
        }
    }

    /// Reads an integer socket option.
    static func get(_ fd: Int32, level: Int32, option: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, level, option, &value, &length) == 0 else { return nil }
        return value
    }

    /// The address the socket is bound to (the real port after binding port 0).
    static func localAddress(_ fd: Int32) throws(Failure) -> PeerAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Failure(operation: "getsockname", errno: errno) }
        guard let address = withUnsafeBytes(of: &storage, { PeerAddress($0.baseAddress!, length: length) }) else {
            throw Failure(operation: "getsockname", errno: EAFNOSUPPORT)
        }
        return address
    }

    /// Sends one datagram; returns 0 or the errno (EAGAIN: the send buffer is full).
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: PeerAddress) -> Int32 {
        address.withSocketAddress { pointer, length in
            while true {
                if sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), pointer, length) >= 0 { return 0 }
                if errno != EINTR { return errno }
            }
        }
    }

    /// Grows the socket's receive buffer to `bytes` (the kernel doubles it for its own
    /// accounting): past `net.core.rmem_max` with `SO_RCVBUFFORCE` when the process may
    /// (CAP_NET_ADMIN, before the privilege drop), else as far as `SO_RCVBUF` allows.
    /// Returns the size in force.
    @discardableResult
    static func growReceiveBuffer(_ fd: Int32, to bytes: Int32) -> Int32? {
        if (try? set(fd, level: SOL_SOCKET, option: SO_RCVBUFFORCE, bytes)) == nil {
            try? set(fd, level: SOL_SOCKET, option: SO_RCVBUF, bytes)
        }
        return get(fd, level: SOL_SOCKET, option: SO_RCVBUF)
    }

    /// Datagrams the kernel dropped at this socket since it was opened, most often because
    /// its receive buffer was full (`SO_MEMINFO`'s `SK_MEMINFO_DROPS`, Linux 3.9).
    static func drops(_ fd: Int32) -> UInt32? {
        // SO_MEMINFO (55) fills SK_MEMINFO_VARS (9) counters; the drops are the last.
        var values = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        var length = socklen_t(MemoryLayout.size(ofValue: values))
        guard getsockopt(fd, SOL_SOCKET, 55, &values, &length) == 0, length >= 36 else { return nil }
        return values.8
    }

    /// Whether the kernel accepts UDP GSO (`UDP_SEGMENT`, Linux 4.18); off when the
    /// environment has `TFTPD_NO_GSO` (to measure without it).
    static let segmentationOffload: Bool = ctftp_udp_segment_supported() != 0 && getenv("TFTPD_NO_GSO") == nil
}
