import Logging
import TFTPCore

extension MachinesFile {
    /// The machines file as one source of the daemon's watcher (``ConfigWatcher``, name
    /// `machines`): a version that reads serves from the next request on; one that does not
    /// keeps the profiles in use, and the error names the file and the line.
    public static func source(path: String, service: MachineService) -> ConfigWatcher.Source {
        ConfigWatcher.Source(name: "machines", paths: [path], maxBytes: 8 << 20) { contents in
            try install(contents[0], from: path, into: service)
        }
    }

    /// The machines file at an origin's URL (`--machines https://…`, docs/fleet.md), polled
    /// with its ETag; the last version that read is kept at `keep` for a start while the
    /// origin is down.
    public static func source(url: String, keep: String?, service: MachineService) -> ConfigWatcher.Source {
        ConfigWatcher.Source(name: "machines", url: url, keep: keep, maxBytes: 8 << 20) { contents in
            try install(contents[0], from: url, into: service)
        }
    }

    /// Whether `location` names a file at an origin rather than a local file.
    public static func isRemote(_ location: String) -> Bool {
        location.hasPrefix("http://") || location.hasPrefix("https://")
    }

    private static func install(_ bytes: [UInt8], from location: String, into service: MachineService) throws
        -> Logger.Metadata
    {
        let book = try parse(String(decoding: bytes, as: UTF8.self), path: location)
        service.replace(book)
        return ["profiles": "\(book.profiles.count)", "script": "\(book.scriptPath)"]
    }
}
