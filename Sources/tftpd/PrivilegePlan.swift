import Glibc
import TFTPCore

/// Who serves, decided before anything is bound so a mistake costs nothing: the one rule
/// for `--user` and `--allow-root`, used by the server at startup and by `--check`.
///
/// - Started as root with `--user NAME`: bind, then become NAME and its groups.
/// - Started as root without `--user`: refused, unless `--allow-root` (then a warning).
/// - Started as another user: `--user` may only name that user (nothing to drop).
enum PrivilegePlan: Equatable {
    /// Drop to this account once every socket is bound.
    case become(ServiceAccount)
    /// Keep the identity it was started with (not root).
    case stay
    /// Serve as root (`--allow-root`), with a warning.
    case serveAsRoot

    /// Why the plan cannot be made; each maps to its exit status.
    enum Problem: Error, Equatable, CustomStringConvertible {
        case account(ServiceAccount.Problem)
        case refusesRoot

        var exit: DaemonExit {
            switch self {
            case .account(.unknownUser): .noSuchUser
            case .account, .refusesRoot: .privileges
            }
        }

        var description: String {
            switch self {
            case .account(let problem): problem.description
            case .refusesRoot: "refusing to serve as root: give --user NAME (e.g. --user tftp) or --allow-root"
            }
        }
    }

    /// The pure decision. `lookup` finds an account by name; `uid` is the identity the
    /// process runs as (0 for root).
    static func decide(
        user: String?, allowRoot: Bool, uid: uid_t,
        lookup: (String) throws(ServiceAccount.Problem) -> ServiceAccount
    ) -> Result<PrivilegePlan, Problem> {
        guard let user else {
            guard uid == 0 else { return .success(.stay) }
            return allowRoot ? .success(.serveAsRoot) : .failure(.refusesRoot)
        }
        let account: ServiceAccount
        do {
            account = try lookup(user)
        } catch {
            return .failure(.account(error))
        }
        if uid == 0 { return .success(.become(account)) }
        return account.uid == uid ? .success(.stay) : .failure(.account(.notRoot(user)))
    }

    /// The decision for this process.
    static func decide(user: String?, allowRoot: Bool) -> Result<PrivilegePlan, Problem> {
        decide(user: user, allowRoot: allowRoot, uid: geteuid(), lookup: ServiceAccount.lookup)
    }
}
