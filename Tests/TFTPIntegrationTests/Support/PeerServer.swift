import Foundation
import Glibc
import Testing

@testable import TFTPCore

/// A real third-party TFTP server (tftp-hpa's `in.tftpd`, `atftpd`) started on a free
/// loopback port for our client to fetch from. Readiness is its first answer to a probe
/// request, not a sleep. Stopped by PID at deinit.
final class PeerServer {
    enum Kind: String, CustomStringConvertible, CaseIterable {
        case tftpHPA = "tftp-hpa"
        case atftpd
        var description: String { rawValue }

        /// Where the binary is: `TFTP_HPA` or Debian's tftpd-hpa extracted with `dpkg -x`
        /// into /opt/tftpd-hpa (it conflicts with atftpd's package); atftpd from its package.
        var executable: String {
            switch self {
            case .tftpHPA:
                ProcessInfo.processInfo.environment["TFTP_HPA"] ?? "/opt/tftpd-hpa/usr/sbin/in.tftpd"
            case .atftpd: "/usr/sbin/atftpd"
            }
        }

        func arguments(root: String, port: Int) -> [String] {
            switch self {
            case .tftpHPA: ["-L", "-a", "127.0.0.1:\(port)", "--secure", "-u", "root", root]
            case .atftpd:
                [
                    "--daemon", "--no-fork", "--port", "\(port)", "--bind-address", "127.0.0.1", "--user", "root",
                    "--group", "root", "--logfile", "/dev/null", root,
                ]
            }
        }
    }

    let process = Process()
    let port: Int

    init(_ kind: Kind, root: String) throws {
        guard FileManager.default.isExecutableFile(atPath: kind.executable) else {
            throw TestFailure("\(kind) is not installed at \(kind.executable) (.ci/run installs it)")
        }
        // A free port: bind to 0, read it, release it for the server.
        port = try UDPPeer().bindLoopback()
        process.executableURL = URL(fileURLWithPath: kind.executable)
        process.arguments = kind.arguments(root: root, port: port)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let probe = try UDPPeer()
        var probeTimeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(probe.fd, SOL_SOCKET, SO_RCVTIMEO, &probeTimeout, socklen_t(MemoryLayout<timeval>.size))
        for _ in 0..<100 {
            guard process.isRunning else { break }
            probe.send(.readRequest(Request(filename: Array("readiness-probe".utf8), mode: .octet)), port: port)
            if probe.receive() != nil { return }
        }
        throw TestFailure("\(kind) did not answer on 127.0.0.1:\(port)")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// For a test against tftp-hpa's or atftpd's server (`kinds`): they must be installed,
    /// and they run as root (each drops to a user of its own), so elsewhere the test is
    /// skipped with the reason; under `CI=true` it always runs.
    static func requiresPeerServers(_ kinds: PeerServer.Kind...) -> Self {
        let missing = kinds.map(\.executable).filter { !ExternalTool.isInstalled($0) }
        let reason =
            missing.isEmpty
            ? "needs root: tftp-hpa's and atftpd's servers drop privileges"
            : "needs \(missing.joined(separator: ", ")), not installed (sudo .ci/run installs the peers)"
        return .enabled(
            if: (missing.isEmpty && geteuid() == 0) || ExternalTool.everyPeerRequired, Comment(rawValue: reason))
    }
}
