import ArgumentParser
import Foundation
import TFTPCore

/// What is served: the root, its rules, the name map.
struct ContentOptions: ParsableArguments {
    @Option(help: "Directory to serve (may be a symlink).")
    var root: String

    @Flag(help: "Also serve files that are not world-readable (tftp-hpa's traditional rule refuses them).")
    var permissive = false

    @Flag(help: "Refuse symlinks, even those that stay inside the root.")
    var noSymlinks = false

    @Option(
        name: .customLong("map"),
        help: ArgumentHelp(
            "Rewrite requested names starting with PREFIX to start with REPLACEMENT, before the path check; repeatable, applied in order. Leading / is ignored. E.g. --map tftpboot/= --map pxelinux.cfg/=site-a/pxelinux.cfg/",
            valueName: "prefix=replacement"
        )
    )
    var map: [String] = []

    @Option(
        help: ArgumentHelp(
            "tftp-hpa's remap rules (its -m FILE, unchanged): regular expressions that rewrite or refuse requested names, before --map and the path check.",
            valueName: "file"))
    var mapFile: String?

    @Flag(
        help:
            "When a requested name does not exist, look for it without regard to case, directory by directory beneath the root (for Windows-era clients)."
    )
    var caseInsensitive = false

    @Option(
        help: ArgumentHelp(
            "Look in the client's own directory first, named by its IP address (192.0.2.15/) or MAC address (52-54-00-12-34-56/, IPv4 neighbours only), then in the root.",
            valueName: "ip|mac"))
    var perClientDir: String?

    func validate() throws {
        _ = try remapRules()
        if let perClientDir, NameResolver.ClientDirectory(rawValue: perClientDir) == nil {
            throw ValidationError("--per-client-dir \(perClientDir): expected ip or mac")
        }
        for rule in map where FilenameMap.Rule(parsing: rule) == nil {
            throw ValidationError("--map \(rule): expected PREFIX=REPLACEMENT with a non-empty PREFIX")
        }
    }

    var policy: ContentRoot.Policy {
        ContentRoot.Policy(requireWorldReadable: !permissive, followSymlinks: !noSymlinks)
    }

    /// The remap file's rules; a usage error naming the line when one cannot be used.
    func remapRules() throws -> RemapRules? {
        guard let mapFile else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: mapFile, encoding: .utf8)
        } catch {
            throw ValidationError("--map-file \(mapFile): cannot be read")
        }
        do {
            return try RemapRules(parsing: text)
        } catch {
            throw ValidationError("--map-file \(mapFile): \(error)")
        }
    }

    var nameResolver: NameResolver {
        NameResolver(
            caseInsensitive: caseInsensitive, clientDirectory: perClientDir.flatMap(NameResolver.ClientDirectory.init))
    }

    func filenameMap(remap: RemapRules?) -> FilenameMap {
        FilenameMap(map.compactMap(FilenameMap.Rule.init(parsing:)), remap: remap.map(RemapFile.init))
    }
}
