import ArgumentParser
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

    func validate() throws {
        for rule in map where FilenameMap.Rule(parsing: rule) == nil {
            throw ValidationError("--map \(rule): expected PREFIX=REPLACEMENT with a non-empty PREFIX")
        }
    }

    var policy: ContentRoot.Policy {
        ContentRoot.Policy(requireWorldReadable: !permissive, followSymlinks: !noSymlinks)
    }

    var filenameMap: FilenameMap { FilenameMap(map.compactMap(FilenameMap.Rule.init(parsing:))) }
}
