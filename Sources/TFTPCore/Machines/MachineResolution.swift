/// What a machine boots, once its profile is chosen: the boot file per architecture, the
/// script template, and the values its `{{ }}` fields take (the profile's over the
/// defaults', and the built-in ones: `mac`, `ip`, `arch`, `uuid`, `hostname`, `profile`).
public struct MachineResolution: Hashable, Sendable {
    /// The chosen profile's name, or `default`.
    public var profile: String
    public var bootFiles: [ClientArchitecture: String]
    public var script: MachineProfile.Script?
    public var variables: [String: String]

    /// The boot file for an architecture: its own, or for an HTTP boot one its PXE
    /// counterpart's (as `--boot-file` does).
    public func bootFile(for architecture: ClientArchitecture) -> String? {
        bootFiles[architecture] ?? architecture.pxeCounterpart.flatMap { bootFiles[$0] }
    }
}
