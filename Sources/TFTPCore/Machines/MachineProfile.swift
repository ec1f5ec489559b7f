/// One entry of the machines file: which machines it is for, and what they boot. Anything it
/// leaves out comes from the file's defaults (docs/machines.md).
public struct MachineProfile: Hashable, Sendable {
    /// Where an iPXE script template comes from.
    public enum Script: Hashable, Sendable {
        /// A file under the root, read through the door when the script is asked for.
        case file(String)
        /// Text in the machines file itself.
        case inline(String)
    }

    public var name: String
    public var selector: MachineSelector
    /// The boot file per architecture (a name under the root, or a URL).
    public var bootFiles: [ClientArchitecture: String]
    public var script: Script?
    /// Values for `{{ name }}` in the script.
    public var variables: [String: String]
    /// Where the profile begins in the file (for `explain` and the log).
    public var line: Int

    public init(
        name: String, selector: MachineSelector = MachineSelector(), bootFiles: [ClientArchitecture: String] = [:],
        script: Script? = nil, variables: [String: String] = [:], line: Int = 0
    ) {
        self.name = name
        self.selector = selector
        self.bootFiles = bootFiles
        self.script = script
        self.variables = variables
        self.line = line
    }
}
