/// Why a requested name cannot be served. Closed, and mapped exactly once per protocol,
/// both mappings side by side in `ContentError+Protocols.swift`, so TFTP and HTTP can
/// never disagree about what is servable.
///
/// Messages sent to peers are short and never contain server paths.
public enum ContentError: Error, Equatable, Sendable {
    /// No such file beneath the root.
    case notFound
    /// The name is not acceptable: `..`, NUL, overlong, or a component too long.
    case invalidName
    /// The name or a symlink on its way leads outside the root (openat2 answered EXDEV),
    /// or symlinks are refused (fallback without openat2).
    case outsideRoot
    /// The file exists but may not be served: not world-readable under the traditional
    /// rule, or the OS refused (EACCES/EPERM).
    case notReadable
    /// A directory: not servable over TFTP; HTTP redirects or lists it.
    case directory
    /// A FIFO, socket or device: only regular files are served.
    case notRegularFile
    /// The file is too large for the requested transfer (netascii is encoded in memory).
    case tooLarge
    /// A rule of the remap file (`--map-file`) refuses the name (its `a` flag), or the rules
    /// looped.
    case refusedByRule
    /// An I/O error while opening or reading; `errno` for the log only.
    case io(errno: Int32)
    /// The file changed under a transfer or a response (its size, modification or change
    /// time is no longer what it was when it was opened: rewritten in place): what was read
    /// may mix two versions, so it is not sent as one file (docs/operations.md, "Rolling
    /// out content").
    case changed
    /// The origin (`--origin`) could not be asked, or failed while the file came, and no
    /// cached copy could stand for it; the reason is for the log only (docs/fleet.md).
    case originUnavailable(String)
    /// The file from the origin does not match the origin's manifest (`--origin-manifest`),
    /// or the manifest does not list it: it is not served, and not kept.
    case failedVerification(String)
    /// A machine's script could not be rendered from its template (a name with no value,
    /// braces that do not close, a template file that cannot be read); the reason, with its
    /// line, is for the log only (docs/machines.md).
    case scriptFailed(String)
}

extension ContentError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notFound: "not found"
        case .invalidName: "invalid name"
        case .outsideRoot: "outside the root"
        case .notReadable: "not readable"
        case .directory: "a directory"
        case .notRegularFile: "not a regular file"
        case .tooLarge: "too large"
        case .refusedByRule: "refused by a remap rule"
        case .io(let errno): "I/O error (errno \(errno))"
        case .changed: "the file changed while it was being sent"
        case .originUnavailable(let reason): "origin unavailable: \(reason)"
        case .failedVerification(let reason): "failed verification: \(reason)"
        case .scriptFailed(let reason): "script not rendered: \(reason)"
        }
    }

}
