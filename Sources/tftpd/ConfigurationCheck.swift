import NIOCore
import TFTPCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `tftpd --check`: tries what the server would do at startup without serving: opens the
/// root, looks the user up, binds each address (and closes it again), applies the root
/// rule. One line per check on stdout; the exit status says whether all passed.
struct ConfigurationCheck {
    enum Transport { case udp, tcp }

    var root: String
    var policy: ContentRoot.Policy
    var user: String?
    var allowRoot: Bool
    var addresses: [(flag: String, address: ListenAddress, transport: Transport)]
    var inheritedSockets: Int

    /// Runs every check, prints the results and returns how many failed.
    func run(print say: (String) -> Void) -> Int {
        var failures = 0
        func report(_ ok: Bool, _ what: String, _ detail: String) {
            if !ok { failures += 1 }
            say("\(ok ? "ok   " : "FAIL ") \(what): \(detail)")
        }
        do {
            _ = try ContentRoot(path: root, policy: policy)
            report(true, "--root", "\(root) opens as a directory")
        } catch {
            report(false, "--root", "\(root): \(error)")
        }
        if let user {
            do {
                let account = try ServiceAccount.lookup(user)
                if !ServiceAccount.isRoot && getuid() != account.uid {
                    report(false, "--user", ServiceAccount.Problem.notRoot(user).description)
                } else {
                    report(true, "--user", "\(user) is uid \(account.uid), gid \(account.gid)")
                }
            } catch {
                report(false, "--user", "\(error)")
            }
        } else if ServiceAccount.isRoot {
            report(
                allowRoot, "privileges",
                allowRoot
                    ? "will serve as root (--allow-root)" : "refuses to serve as root: give --user NAME or --allow-root"
            )
        }
        for (flag, address, transport) in addresses {
            if let problem = Self.bindProblem(address, transport: transport) {
                report(false, flag, "\(address): \(problem)")
            } else {
                report(true, flag, "\(address) can be bound")
            }
        }
        if inheritedSockets > 0 {
            report(true, "socket activation", "\(inheritedSockets) UDP socket(s) from systemd")
        }
        return failures
    }

    /// Binds a socket of the kind the server would (without SO_REUSEADDR, so an address
    /// another server holds shows as in use) and closes it; nil when that worked.
    static func bindProblem(_ listen: ListenAddress, transport: Transport) -> String? {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(listen.host, port: listen.port)
        } catch {
            return "cannot resolve \(listen.host): \(error)"
        }
        let type = transport == .udp ? CInt(SOCK_DGRAM.rawValue) : CInt(SOCK_STREAM.rawValue)
        let fd = socket(CInt(address.protocol.rawValue), type | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        let result = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        return result == 0 ? nil : String(cString: strerror(errno))
    }
}
