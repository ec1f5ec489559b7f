import CTFTPShims
import Glibc

/// systemd socket activation (sd_listen_fds(3)): when LISTEN_PID is this process, the
/// LISTEN_FDS descriptors from 3 on are sockets systemd bound for us, port 69 included,
/// so the daemon itself never needs root. The variables are removed so that children
/// (none today) would not take the sockets too, and the descriptors become close-on-exec.
public enum SocketActivation {
    /// The first descriptor systemd passes (SD_LISTEN_FDS_START).
    public static let firstDescriptor: CInt = 3

    /// The inherited sockets, split by type; empty when not socket-activated.
    public static func takeInheritedSockets() -> (datagram: [CInt], other: [CInt]) {
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), let pid = Int32(pidText),
            pid == getpid(),
            let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int32(countText),
            count > 0, count < 1024
        else { return ([], []) }
        var datagram: [CInt] = []
        var other: [CInt] = []
        for fd in firstDescriptor..<(firstDescriptor + count) {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var type: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            if getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == CInt(SOCK_DGRAM.rawValue) {
                datagram.append(fd)
            } else {
                other.append(fd)
            }
        }
        return (datagram, other)
    }
}
