/// The machines file, read (``MachineProfile``s and the defaults for every machine that
/// matches none), and the one resolver that the proxyDHCP answer, the rendered script over
/// HTTP and TFTP, and `/api/explain` all ask: of the profiles whose selectors all hold for a
/// machine, the most specific wins (``MachineSelector/Specificity``), the earlier in the file
/// on a tie. Pure. docs/machines.md.
public struct MachineBook: Hashable, Sendable {
    /// What a machine matching no profile gets; its selector is empty.
    public var defaults: MachineProfile
    public var profiles: [MachineProfile]
    /// The name under which the per-machine script is served over HTTP and TFTP.
    public var scriptPath: String

    /// Names the server fills in; a profile's variables may not take them.
    public static let builtIns: Set<String> = ["mac", "ip", "arch", "uuid", "hostname", "profile"]

    public init(
        defaults: MachineProfile = MachineProfile(name: "default"), profiles: [MachineProfile] = [],
        scriptPath: String = "boot.ipxe"
    ) {
        self.defaults = defaults
        self.profiles = profiles
        self.scriptPath = scriptPath
    }

    /// The profile a machine gets: the most specific of those that match, else the defaults.
    public func profile(for machine: MachineIdentity) -> MachineProfile {
        var best: MachineProfile?
        for profile in profiles where profile.selector.matches(machine) {
            if let current = best, profile.selector.specificity <= current.selector.specificity { continue }
            best = profile
        }
        return best ?? defaults
    }

    public func resolve(_ machine: MachineIdentity) -> MachineResolution {
        let profile = profile(for: machine)
        var variables = defaults.variables.merging(profile.variables) { $1 }
        variables["profile"] = profile.name
        variables["mac"] = machine.mac.map { "\($0)" } ?? ""
        variables["ip"] = machine.address.map { "\($0)" } ?? ""
        variables["arch"] = machine.architecture?.rawValue ?? ""
        variables["uuid"] = machine.uuid ?? ""
        variables["hostname"] = machine.hostname ?? ""
        return MachineResolution(
            profile: profile.name, bootFiles: defaults.bootFiles.merging(profile.bootFiles) { $1 },
            script: profile.script ?? defaults.script, variables: variables)
    }

    /// Why a machine gets what it gets: each profile, whether it matched and why, the one
    /// chosen, and the result.
    public func explain(_ machine: MachineIdentity) -> MachineExplanation {
        let chosen = profile(for: machine)
        let candidates = profiles.map { profile in
            let checks = profile.selector.check(machine)
            return MachineExplanation.Candidate(
                name: profile.name, line: profile.line, matched: checks.allSatisfy(\.held),
                reasons: checks.isEmpty ? ["no selectors: matches every machine"] : checks.map(\.reason))
        }
        return MachineExplanation(
            machine: machine, chosen: chosen.name, candidates: candidates, resolution: resolve(machine))
    }
}
