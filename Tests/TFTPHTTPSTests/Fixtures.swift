import Foundation

/// The certificates of `fixtures/tls` (see its README).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/tls")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A scratch copy of fixture files, to change under a loaded credential.
    static func scratch(_ names: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (to, from) in names {
            try FileManager.default.copyItem(atPath: path(from), toPath: dir.appendingPathComponent(to).path)
        }
        return dir
    }
}
