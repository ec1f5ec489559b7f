import ArgumentParser
import Dispatch
import Logging
import NIOCore
import Synchronization
import TFTPCore

/// `tftpd`: the flags (one group per concern, each validating itself), then
/// ``DaemonConfiguration`` (pure), ``PrivilegePlan`` (pure), and ``DaemonServices`` to run.
@main
struct TFTPDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftpd",
        abstract: "A read-only TFTP server for network boot (RFC 1350, 2347-2349, 7440).",
        discussion: """
            Serves the files beneath --root over TFTP and, with --http, over HTTP/1.1 \
            through the same path rules. Write requests are refused. Runs in the \
            foreground and logs one line per transfer to stderr. SIGTERM or SIGINT stops \
            accepting requests and lets running transfers finish within --grace-period; \
            a second signal ends them at once.

            Started as root, it binds its sockets and then serves as --user; it refuses to \
            serve as root without --allow-root. Under systemd socket activation it takes \
            the UDP sockets systemd passes (LISTEN_FDS) instead of binding --listen.

            \(DaemonExit.help)
            """
    )

    @OptionGroup(title: "Content") var content: ContentOptions
    @OptionGroup(title: "TFTP listeners") var listen: ListenOptions
    @OptionGroup(title: "TFTP transfers") var transfer: TransferOptions
    @OptionGroup(title: "HTTP") var http: HTTPOptions
    @OptionGroup(title: "proxyDHCP") var proxy: ProxyDHCPOptions
    @OptionGroup(title: "Machines") var machines: MachineOptions
    @OptionGroup(title: "Origin and cache") var origin: OriginOptions
    @OptionGroup(title: "Operations") var operations: OperatorOptions
    @OptionGroup(title: "Privileges") var privileges: PrivilegeOptions

    @Flag(help: "Check the configuration (root, user, addresses bindable) and exit: 0 if it would start.")
    var check = false

    func validate() throws {
        if !proxy.interfaces.isEmpty, proxy.bootFiles.isEmpty, proxy.iPXEScript == nil, machines.file == nil {
            throw ValidationError(
                "--proxy-dhcp needs at least one --boot-file ARCH=FILE (or --ipxe-script, or --machines)")
        }
    }

    /// Runs ``serve()`` while the main thread waits here. Swift's async main would park the
    /// main thread with dispatch_main(), which exits it; an exited main thread keeps root's
    /// IDs in /proc/PID/status (what ps and operators read) after the privilege drop has
    /// changed every live thread. Blocked here, it drops with the others.
    func run() throws {
        let outcome = Mutex<Result<Void, any Error>>(.success(()))
        let done = DispatchSemaphore(value: 0)
        let command = self
        Task {
            do {
                try await command.serve()
            } catch let exit as DaemonExit {
                outcome.withLock { $0 = .failure(exit.exitCode) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        DaemonServices.logWriter.flush()
        try outcome.withLock { $0 }.get()
    }

    func serve() async throws {
        let inherited = SocketActivation.takeInheritedSockets()
        let configuration = DaemonConfiguration(
            content: content, listen: listen, transfer: transfer, http: http, proxy: proxy, operator: operations,
            origin: origin, inheritedSockets: inherited.datagram, coreCount: System.coreCount,
            remap: try content.remapRules(),
            machines: try machines.book().map { (machines.file ?? "", $0) })
        let plan = PrivilegePlan.decide(user: privileges.user, allowRoot: privileges.allowRoot)

        if check {
            let checker = ConfigurationCheck(configuration: configuration, user: privileges.user, privileges: plan)
            let failures = checker.run { print($0) }
            print(failures == 0 ? "configuration ok" : "configuration has \(failures) problem(s)")
            throw failures == 0 ? DaemonExit.success : DaemonExit.failed
        }

        let logger = DaemonServices.bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
        for fd in inherited.other {
            logger.warning("ignoring a passed socket that is not UDP", metadata: ["fd": "\(fd)"])
        }
        // Who serves: decided before anything is bound, so a mistake costs nothing.
        let privilegePlan: PrivilegePlan
        switch plan {
        case .success(let decided):
            privilegePlan = decided
        case .failure(let problem):
            logger.critical("\(problem)")
            throw problem.exit
        }
        try await DaemonServices(configuration: configuration, privileges: privilegePlan, logger: logger).run()
    }
}
