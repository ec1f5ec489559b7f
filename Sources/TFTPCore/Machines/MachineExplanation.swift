/// The answer of `/api/explain`: which profile a machine would get, every profile with
/// whether its selectors held and why, and what the machine would boot.
public struct MachineExplanation: Hashable, Sendable {
    public struct Candidate: Hashable, Sendable {
        public var name: String
        public var line: Int
        public var matched: Bool
        public var reasons: [String]
    }

    public var machine: MachineIdentity
    /// The chosen profile's name, or `default` when none matched.
    public var chosen: String
    public var candidates: [Candidate]
    public var resolution: MachineResolution
}
