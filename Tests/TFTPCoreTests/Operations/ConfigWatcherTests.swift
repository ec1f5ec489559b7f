import Foundation
import Logging
import Testing

@testable import TFTPCore

/// The one watcher of the files read after start, on real files in a temporary directory:
/// a change of any kind is seen (rewritten, renamed over, a swapped link, a ConfigMap's
/// `..data` swap), a version that does not install keeps the one in use and is reported
/// once, SIGHUP reloads everything, and each version is recorded with its hash.
@Suite struct ConfigWatcherTests {
    /// A directory laid out as Kubernetes mounts a ConfigMap: `config.txt` → `..data/config.txt`,
    /// `..data` → `..v1`; ``update(_:)`` writes `..vN` and swaps `..data` atomically.
    final class ConfigMap {
        let directory: String
        var version = 0

        init(_ text: String) throws {
            directory = NSTemporaryDirectory() + "watcher-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try update(text)
            symlink("..data/config.txt", directory + "/config.txt")
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        var path: String { directory + "/config.txt" }

        func update(_ text: String) throws {
            version += 1
            let folder = directory + "/..v\(version)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + "/config.txt", atomically: false, encoding: .utf8)
            symlink("..v\(version)", directory + "/..data_tmp")
            rename(directory + "/..data_tmp", directory + "/..data")
        }
    }

    /// What the source installed, in order.
    final class Installed: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        var all: [String] { lock.withLock { values } }
        func add(_ value: String) { lock.withLock { values.append(value) } }
    }

    /// A source that installs any text but one starting with "bad".
    private func watcher(_ path: String, _ installed: Installed) -> ConfigWatcher {
        let source = ConfigWatcher.Source(name: "test", paths: [path]) { contents in
            let text = String(decoding: contents[0], as: UTF8.self)
            guard !text.hasPrefix("bad") else { throw TestError(description: "line 1: bad") }
            installed.add(text)
            return ["text": "\(text)"]
        }
        return ConfigWatcher(
            sources: [source], logger: Logger(label: "test"), metrics: ServerMetrics(),
            digest: { "digest-of-\($0.count)-bytes" })
    }

    struct TestError: Error, CustomStringConvertible {
        var description: String
    }

    @Test func aConfigMapUpdateIsSeenAndAFailedOneKeepsTheVersionInUse() async throws {
        let map = try ConfigMap("one")
        let installed = Installed()
        let watcher = watcher(map.path, installed)
        try await watcher.loadAll()
        #expect(installed.all == ["one"])
        let first = try #require(watcher.versions.versions.first)
        #expect(first.sha256 == "digest-of-3-bytes")
        #expect(first.failure == nil)
        // Nothing changed: nothing is read again.
        watcher.reloadChanged()
        #expect(installed.all == ["one"])
        try map.update("three")
        watcher.reloadChanged()
        #expect(installed.all == ["one", "three"])
        // A version that does not install: the one in use stays, the failure is recorded,
        // and it is tried once per change, not on every look.
        try map.update("bad!")
        watcher.reloadChanged()
        watcher.reloadChanged()
        #expect(installed.all == ["one", "three"])
        let failed = try #require(watcher.versions.versions.first)
        #expect(failed.sha256 == "digest-of-5-bytes")
        #expect(failed.failure == "line 1: bad")
        try map.update("fixed")
        watcher.reloadChanged()
        #expect(installed.all == ["one", "three", "fixed"])
        #expect(watcher.versions.versions.first?.failure == nil)
    }

    /// A file rewritten in place, and one renamed over the name.
    @Test func rewritesAndRenamesAreSeen() async throws {
        let directory = NSTemporaryDirectory() + "watcher-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/file"
        try "a".write(toFile: path, atomically: false, encoding: .utf8)
        let installed = Installed()
        let watcher = watcher(path, installed)
        try await watcher.loadAll()
        try "bb".write(toFile: path, atomically: false, encoding: .utf8)
        watcher.reloadChanged()
        try "ccc".write(toFile: path, atomically: true, encoding: .utf8)
        watcher.reloadChanged()
        #expect(installed.all == ["a", "bb", "ccc"])
    }

    /// SIGHUP reloads every source, changed or not.
    @Test func reloadAllReadsEverySourceAgain() async throws {
        let map = try ConfigMap("one")
        let installed = Installed()
        let watcher = watcher(map.path, installed)
        try await watcher.loadAll()
        await watcher.reloadAll(because: "SIGHUP")
        #expect(installed.all == ["one", "one"])
    }

    /// At start a source that cannot be used is an error naming it.
    @Test func aBadFileAtStartIsAnError() async throws {
        let map = try ConfigMap("bad start")
        let watcher = watcher(map.path, Installed())
        await #expect(throws: ConfigWatcher.LoadError.self) { try await watcher.loadAll() }
        let missing = self.watcher("/nonexistent/config", Installed())
        do {
            try await missing.loadAll()
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.source == "test")
            #expect(error.reason.contains("/nonexistent/config"))
        }
    }
}
