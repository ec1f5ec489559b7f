import ArgumentParser
import TFTPCore
import TFTPMachines

/// Per-machine boot profiles: off unless `--machines` names a file.
struct MachineOptions: ParsableArguments {
    @Option(
        name: .customLong("machines"),
        help: ArgumentHelp(
            "Boot profiles per machine (YAML or JSON): which boot file, iPXE script and values each machine gets, chosen by MAC, UUID, architecture, address or host name (docs/machines.md). Read again when the file changes; an http:// or https:// URL is asked every 10 seconds with its ETag (docs/fleet.md).",
            valueName: "file|url"
        )
    )
    var file: String?

    /// The file read, or nil without `--machines`; a file that does not read is a usage
    /// error naming the file and the line (exit 64, also under `--check`), as `--map-file`.
    func book() throws -> MachineBook? {
        guard let file else { return nil }
        // A URL is fetched once the daemon runs (its client, its kept copy).
        if MachinesFile.isRemote(file) { return MachineBook() }
        do {
            return try MachinesFile.read(path: file)
        } catch {
            throw ValidationError("--machines \(error)")
        }
    }
}
