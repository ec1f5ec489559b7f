import Testing

@testable import TFTPCore

/// The one resolver: selectors, the most specific match, defaults, and why.
@Suite struct MachineBookTests {
    private static let node7 = MACAddress("52:54:00:00:02:07")!
    private static let other = MACAddress("52-54-00-00-02-08")!

    private static let book = MachineBook(
        defaults: MachineProfile(
            name: "default", bootFiles: [.bios: "undionly.kpxe", .efiX64: "ipxe.efi"], script: .inline("#!ipxe\nexit"),
            variables: ["console": "ttyS0"]),
        profiles: [
            MachineProfile(
                name: "lab", selector: MachineSelector(ranges: [IPv4Range("192.0.2.0/24")!]),
                script: .file("lab.ipxe"), variables: ["role": "lab"], line: 3),
            MachineProfile(
                name: "workers",
                selector: MachineSelector(architectures: [.efiX64], ranges: [IPv4Range("192.0.2.0/25")!]),
                script: .file("install.ipxe"), variables: ["role": "worker"], line: 7),
            MachineProfile(
                name: "node7", selector: MachineSelector(macs: [node7]), bootFiles: [.efiX64: "snponly.efi"],
                variables: ["role": "rescue"], line: 12),
            MachineProfile(
                name: "named", selector: MachineSelector(hostnames: ["db*"]), variables: ["role": "db"], line: 16),
        ])

    @Test func aMachineMatchingNothingGetsTheDefaults() {
        let resolution = Self.book.resolve(MachineIdentity(mac: Self.other, architecture: .bios))
        #expect(resolution.profile == "default")
        #expect(resolution.bootFile(for: .bios) == "undionly.kpxe")
        #expect(resolution.script == .inline("#!ipxe\nexit"))
        #expect(resolution.variables["console"] == "ttyS0")
        #expect(resolution.variables["mac"] == "52:54:00:00:02:08")
        #expect(resolution.variables["arch"] == "bios")
        #expect(resolution.variables["ip"] == "")
    }

    /// A hardware address beats an address range; a narrower range beats a wider one; an
    /// architecture on top of a range beats the range alone.
    @Test func theMostSpecificMatchWins() {
        let inLab = IPv4Address("192.0.2.200")!
        let inWorkers = IPv4Address("192.0.2.20")!
        #expect(Self.book.profile(for: MachineIdentity(architecture: .efiX64, address: inLab)).name == "lab")
        #expect(Self.book.profile(for: MachineIdentity(architecture: .efiX64, address: inWorkers)).name == "workers")
        #expect(Self.book.profile(for: MachineIdentity(architecture: .bios, address: inWorkers)).name == "lab")
        let node7 = MachineIdentity(mac: Self.node7, architecture: .efiX64, address: inWorkers)
        #expect(Self.book.profile(for: node7).name == "node7")
        // What a profile leaves out comes from the defaults; its own values win.
        let resolution = Self.book.resolve(node7)
        #expect(resolution.bootFile(for: .efiX64) == "snponly.efi")
        #expect(resolution.bootFile(for: .efiX64HTTP) == "snponly.efi")
        #expect(resolution.bootFile(for: .bios) == "undionly.kpxe")
        #expect(resolution.script == .inline("#!ipxe\nexit"))
        #expect(resolution.variables["role"] == "rescue" && resolution.variables["console"] == "ttyS0")
        #expect(resolution.variables["profile"] == "node7")
    }

    @Test func hostnamesMatchWithoutCaseAndByPrefix() {
        #expect(Self.book.profile(for: MachineIdentity(hostname: "DB-07")).name == "named")
        #expect(Self.book.profile(for: MachineIdentity(hostname: "web1")).name == "default")
    }

    /// Two profiles of the same specificity: the earlier in the file wins.
    @Test func aTieGoesToTheEarlierProfile() {
        let book = MachineBook(profiles: [
            MachineProfile(name: "first", selector: MachineSelector(architectures: [.bios])),
            MachineProfile(name: "second", selector: MachineSelector(architectures: [.bios])),
        ])
        #expect(book.profile(for: MachineIdentity(architecture: .bios)).name == "first")
    }

    @Test func explainSaysWhyForEveryProfile() throws {
        let explanation = Self.book.explain(
            MachineIdentity(mac: Self.node7, architecture: .bios, address: IPv4Address("192.0.2.20")!))
        #expect(explanation.chosen == "node7")
        let workers = try #require(explanation.candidates.first { $0.name == "workers" })
        #expect(!workers.matched)
        #expect(workers.reasons == ["arch bios is not listed", "ip 192.0.2.20 is in 192.0.2.0/25"])
        #expect(workers.line == 7)
        let lab = try #require(explanation.candidates.first { $0.name == "lab" })
        #expect(lab.matched && lab.reasons == ["ip 192.0.2.20 is in 192.0.2.0/24"])
        #expect(explanation.candidates.first { $0.name == "node7" }?.reasons == ["mac 52:54:00:00:02:07 is listed"])
        #expect(
            explanation.candidates.first { $0.name == "named" }?.reasons == ["hostname unknown matches none of db*"])
    }

    @Test func addressesRangesAndUUIDsRead() {
        #expect(MACAddress("52:54:00:AB:cd:0e")?.description == "52:54:00:ab:cd:0e")
        #expect(MACAddress("52:54:00:ab:cd") == nil && MACAddress("52:54:00:ab:cd:0g") == nil)
        #expect(IPv4Range("192.0.2.77/26")?.description == "192.0.2.64/26")
        #expect(IPv4Range("192.0.2.7")?.contains(IPv4Address("192.0.2.7")!) == true)
        #expect(IPv4Range("192.0.2.0/33") == nil && IPv4Range("nope") == nil)
        #expect(IPv4Range("0.0.0.0/0")?.contains(IPv4Address("203.0.113.9")!) == true)
        // Option 97: type 0, then the SMBIOS UUID with its first three fields little-endian.
        let option: [UInt8] = [0, 0x44, 0x45, 0x4c, 0x4c, 0x42, 0x00, 0x10, 0x52] + Array(repeating: 0xab, count: 8)
        #expect(MachineIdentity.uuid(fromOption: option) == "4c4c4544-0042-5210-abab-abababababab")
        #expect(MachineIdentity.uuid(fromOption: [1] + Array(repeating: 0, count: 16)) == nil)
    }
}
