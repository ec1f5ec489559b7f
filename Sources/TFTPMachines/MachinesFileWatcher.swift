import Foundation
import Logging
import ServiceLifecycle
import TFTPCore

/// Keeps `--machines` current: every two seconds it looks whether the file changed and reads
/// it again; a file that reads serves from the next request on, one that does not keeps the
/// profiles in use, with one error line naming the file and the line (once per change).
public struct MachinesFileWatcher: Service {
    public let path: String
    public let service: MachineService
    public let logger: Logger
    public let interval: Duration

    public init(path: String, service: MachineService, logger: Logger, interval: Duration = .seconds(2)) {
        self.path = path
        self.service = service
        self.logger = logger
        self.interval = interval
    }

    /// The file's change marks: size, modification time, inode (a replacing rename).
    static func stamp(_ path: String) -> [String]? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return [
            "\(attributes[.size] ?? 0)", "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
            "\(attributes[.systemFileNumber] ?? 0)",
        ]
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                var seen = Self.stamp(path)
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    let now = Self.stamp(path)
                    guard now != seen else { continue }
                    seen = now
                    reload(because: "the file changed")
                }
            }
            tasks.addTask { try? await gracefulShutdown() }
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Reads the file again now.
    public func reload(because reason: String) {
        do {
            let book = try MachinesFile.read(path: path)
            service.replace(book)
            Self.describe(book, path: path, logger: logger, because: reason)
        } catch {
            logger.error(
                "machines: kept the profiles in use: the file does not read",
                metadata: ["because": "\(reason)", "error": "\(error)"])
        }
    }

    /// The line that says what the file holds.
    public static func describe(_ book: MachineBook, path: String, logger: Logger, because reason: String? = nil) {
        var metadata: Logger.Metadata = [
            "file": "\(path)", "profiles": "\(book.profiles.count)", "script": "\(book.scriptPath)",
        ]
        if let reason { metadata["because"] = "\(reason)" }
        logger.notice(reason == nil ? "machines: profiles read" : "machines: profiles read again", metadata: metadata)
    }
}
