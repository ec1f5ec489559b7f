import ArgumentParser

/// The exit statuses of `tftpd`, one per kind of failure, so a service manager or a
/// provisioning script can tell a wrong root from a wrong user. Shared by serving and
/// `--check`, listed in `--help` and the README.
enum DaemonExit: Int32, CaseIterable, Error {
    /// Stopped cleanly, or `--check` found nothing wrong.
    case success = 0
    /// `--check` found a problem, or a socket could not be bound.
    case failed = 1
    /// Bad flags (ArgumentParser's own code).
    case usage = 64
    /// The `--tls-cert`/`--tls-key` pair cannot be served (unreadable, not PEM, not a pair).
    case tlsUnservable = 65
    /// The root cannot be served (missing, not a directory, not openable).
    case rootUnservable = 66
    /// `--user` names no account.
    case noSuchUser = 67
    /// The origin's client or the cache cannot be set up (`--origin-ca` unreadable, `--cache`
    /// not a writable directory).
    case originUnservable = 68
    /// Refused to serve as root, or privileges could not be dropped.
    case privileges = 77

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The table in `--help`.
    static let help = """
        Exit status: 0 stopped cleanly or --check passed; 1 --check failed or a socket \
        could not be bound; 64 usage; 65 the TLS certificate or key cannot be served; 66 the \
        root cannot be served; 67 no such --user; 68 the --origin-ca or --cache cannot be used; \
        77 refused to serve as root or could not drop privileges.
        """
}
