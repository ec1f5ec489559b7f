import Foundation
import Glibc

/// The cache directory is made by root when tftpd starts as root; it is written by the
/// account tftpd serves as once privileges are dropped, so everything in it is handed to that
/// account first (what is not owned by it already: a restart touches nothing).
enum CacheOwnership {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func give(_ directory: String, to uid: uid_t, gid: gid_t) throws {
        var paths = [directory]
        if let walk = FileManager.default.enumerator(atPath: directory) {
            for case let relative as String in walk { paths.append(directory + "/" + relative) }
        }
        for path in paths {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            guard info.st_uid != uid || info.st_gid != gid else { continue }
            if lchown(path, uid, gid) != 0 {
                throw Failure(description: "cannot hand \(path) to uid \(uid): \(String(cString: strerror(errno)))")
            }
        }
    }
}
