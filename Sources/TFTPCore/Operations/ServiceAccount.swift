import Glibc

/// The unprivileged account `tftpd` serves as (`--user NAME`), and the privilege drop:
/// supplementary groups, group, then user (in that order: after setuid the others are no
/// longer allowed). glibc applies each change to every thread of the process, so NIO's and
/// the Swift runtime's threads drop with the main one.
public struct ServiceAccount: Equatable, Sendable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknownUser(String)
        case notRoot(String)
        case failed(step: String, errno: Int32)
        case stillPrivileged

        public var description: String {
            switch self {
            case .unknownUser(let name): "no such user: \(name)"
            case .notRoot(let name): "--user \(name) needs tftpd to be started as root"
            case .failed(let step, let code): "\(step) failed: \(String(cString: strerror(code)))"
            case .stillPrivileged: "privileges could not be dropped: root could be regained"
            }
        }
    }

    /// Looks the name up in the user database (getpwnam_r).
    public static func lookup(_ name: String) throws(Problem) -> ServiceAccount {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var storage = [CChar](repeating: 0, count: 16 * 1024)
        let status = getpwnam_r(name, &entry, &storage, storage.count, &result)
        guard status == 0, result != nil else { throw .unknownUser(name) }
        return ServiceAccount(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    /// Whether the process runs with root's effective user ID.
    public static var isRoot: Bool { geteuid() == 0 }

    /// Becomes this account for good: initgroups, setgid, setuid, then checks that root
    /// cannot be regained. Without root it succeeds only when already this user.
    public func become() throws(Problem) {
        guard Self.isRoot else {
            guard getuid() == uid else { throw .notRoot(name) }
            return
        }
        guard initgroups(name, gid) == 0 else { throw .failed(step: "initgroups", errno: errno) }
        guard setgid(gid) == 0 else { throw .failed(step: "setgid", errno: errno) }
        guard setuid(uid) == 0 else { throw .failed(step: "setuid", errno: errno) }
        guard uid == 0 || (setuid(0) != 0 && geteuid() == uid && getegid() == gid) else { throw .stillPrivileged }
    }
}
