import Logging
import TFTPCore

extension MachinesFile {
    /// The machines file as one source of the daemon's watcher (``ConfigWatcher``, name
    /// `machines`): a version that reads serves from the next request on; one that does not
    /// keeps the profiles in use, and the error names the file and the line.
    public static func source(path: String, service: MachineService) -> ConfigWatcher.Source {
        ConfigWatcher.Source(name: "machines", paths: [path], maxBytes: 8 << 20) { contents in
            let book = try parse(String(decoding: contents[0], as: UTF8.self), path: path)
            service.replace(book)
            return ["profiles": "\(book.profiles.count)", "script": "\(book.scriptPath)"]
        }
    }
}
