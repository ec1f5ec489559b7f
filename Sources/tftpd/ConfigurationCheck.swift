import Glibc
import NIOCore
import TFTPCore
import TFTPHTTPS

/// `tftpd --check`: tries what the server would do at startup without serving: opens the
/// root, makes the privilege plan (the same ``PrivilegePlan`` the server makes), binds each
/// address (and closes it again). One line per check on stdout; the exit status says
/// whether all passed.
struct ConfigurationCheck {
    var configuration: DaemonConfiguration
    var user: String?
    var privileges: Result<PrivilegePlan, PrivilegePlan.Problem>

    /// Runs every check, prints the results and returns how many failed.
    func run(print say: (String) -> Void) -> Int {
        var failures = 0
        func report(_ ok: Bool, _ what: String, _ detail: String) {
            if !ok { failures += 1 }
            say("\(ok ? "ok   " : "FAIL ") \(what): \(detail)")
        }
        let root = configuration.server.root
        do {
            _ = try ContentRoot(path: root, policy: configuration.contentPolicy)
            report(true, "--root", "\(root) opens as a directory")
        } catch {
            report(false, "--root", "\(root): \(error)")
        }
        switch privileges {
        case .success(.become(let account)):
            report(true, "--user", "\(account.name) is uid \(account.uid), gid \(account.gid)")
        case .success(.serveAsRoot):
            report(true, "privileges", "will serve as root (--allow-root)")
        case .success(.stay):
            if let user { report(true, "--user", "\(user) is the user tftpd runs as") }
        case .failure(.refusesRoot):
            report(false, "privileges", "refuses to serve as root: give --user NAME or --allow-root")
        case .failure(let problem):
            report(false, "--user", problem.description)
        }
        for binding in configuration.bindings {
            if let problem = Self.bindProblem(binding.address, transport: binding.transport) {
                report(false, binding.flag, "\(binding.address): \(problem)")
            } else {
                report(true, binding.flag, "\(binding.address) can be bound")
            }
        }
        for interface in configuration.proxyDHCP?.interfaces ?? [] {
            switch ProxyDHCPServer.check(interface: interface) {
            case .success(let address):
                report(true, "--proxy-dhcp", "\(interface) (\(address)): ports 67 and 4011 can be bound")
            case .failure(let error):
                report(false, "--proxy-dhcp", "\(interface): \(error.reason)")
            }
        }
        if let tls = configuration.tls {
            do {
                let facts = try TLSCredentials(certificate: tls.certificate, key: tls.key).facts
                let names =
                    facts.alternativeNames.isEmpty
                    ? "no alternative names" : facts.alternativeNames.joined(separator: ", ")
                let until = TLSCertificateFacts.day(facts.notValidAfter)
                switch facts.validity(at: Int(time(nil))) {
                case .valid:
                    report(true, "--tls-cert", "\(tls.certificate) with its key: \(names), valid until \(until)")
                case .expired:
                    report(false, "--tls-cert", "\(tls.certificate) expired on \(until): clients will refuse it")
                case .notYetValid:
                    report(
                        false, "--tls-cert",
                        "\(tls.certificate) is not valid before \(TLSCertificateFacts.day(facts.notValidBefore))")
                }
            } catch {
                report(false, "--tls-cert", "\(error)")
            }
        }
        if let (file, service) = configuration.machines {
            let book = service.book
            report(true, "--machines", "\(file): \(book.profiles.count) profile(s), the script at \(book.scriptPath)")
        }
        let inherited = configuration.server.inheritedSockets.count
        if inherited > 0 {
            report(true, "socket activation", "\(inherited) UDP socket(s) from systemd")
        }
        return failures
    }

    /// Binds a socket of the kind the server would (without SO_REUSEADDR, so an address
    /// another server holds shows as in use) and closes it; nil when that worked.
    static func bindProblem(_ listen: ListenAddress, transport: DaemonConfiguration.Binding.Transport) -> String? {
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
