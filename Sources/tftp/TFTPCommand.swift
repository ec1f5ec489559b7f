import ArgumentParser

/// `tftp`: the bundled client, for checking a boot server before a rack powers on.
@main
struct TFTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp",
        abstract: "A strict TFTP client for checking boot servers.",
        subcommands: [GetCommand.self, BenchCommand.self]
    )
}
