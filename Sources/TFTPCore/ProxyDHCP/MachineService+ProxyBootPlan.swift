extension MachineService {
    /// What the proxy tells one machine: its profile's boot files over `fallback`'s (the
    /// `--boot-file` flags), and when its profile has a script, the script's name with the
    /// machine's hardware address for iPXE (so the script is rendered for it wherever iPXE's
    /// request comes from). Returns the profile's name too, for the log and the timeline.
    public func plan(for machine: MachineIdentity, fallback: ProxyBootPlan) -> (plan: ProxyBootPlan, profile: String) {
        let book = book
        let resolution = book.resolve(machine)
        var script = fallback.iPXEScript
        if resolution.script != nil {
            script = book.scriptPath + (machine.mac.map { "?mac=\($0)" } ?? "")
        }
        return (
            ProxyBootPlan(bootFiles: fallback.bootFiles.merging(resolution.bootFiles) { $1 }, iPXEScript: script),
            resolution.profile
        )
    }
}
