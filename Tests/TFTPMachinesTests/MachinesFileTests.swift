import Testing

@testable import TFTPCore
@testable import TFTPMachines

/// The machines file, YAML and JSON, read strictly: every mistake names its line.
@Suite struct MachinesFileTests {
    static let example = """
        # docs/machines.md's example
        script-path: boot.ipxe
        defaults:
          boot:
            bios: undionly.kpxe
            efi-x64: ipxe.efi
          ipxe: |
            #!ipxe
            echo {{ profile }} for {{ mac }}
            chain http://${next-server}/menu.ipxe
          vars:
            console: ttyS0
        machines:
          - name: workers
            match:
              ip: 192.0.2.0/25
              arch: [efi-x64, efi-x64-http]
            script: templates/install.ipxe
            vars:
              role: worker
          - name: node7
            match: {mac: "52:54:00:00:02:07"}
            boot: {efi-x64: snponly.efi}
            ipxe: |
              #!ipxe
              kernel vmlinuz console={{ console }} role={{ role }}
            vars: {role: rescue}
        """

    @Test func theExampleReads() throws {
        let book = try MachinesFile.parse(Self.example, path: "machines.yaml")
        #expect(book.scriptPath == "boot.ipxe")
        #expect(book.defaults.bootFiles == [.bios: "undionly.kpxe", .efiX64: "ipxe.efi"])
        #expect(book.defaults.variables == ["console": "ttyS0"])
        #expect(book.profiles.map(\.name) == ["workers", "node7"])
        let workers = book.profiles[0]
        #expect(workers.selector.ranges == [IPv4Range("192.0.2.0/25")!])
        #expect(workers.selector.architectures == [.efiX64, .efiX64HTTP])
        #expect(workers.script == .file("templates/install.ipxe"))
        #expect(workers.line == 14)
        let node7 = book.profiles[1]
        #expect(node7.selector.macs == [MACAddress("52:54:00:00:02:07")!])
        #expect(node7.script == .inline("#!ipxe\nkernel vmlinuz console={{ console }} role={{ role }}\n"))
    }

    @Test func jsonReadsToo() throws {
        let book = try MachinesFile.parse(
            """
            {"defaults": {"boot": {"bios": "undionly.kpxe"}},
             "machines": [{"name": "a", "match": {"mac": ["52:54:00:00:00:01", "52:54:00:00:00:02"]}, "vars": {"x": "1"}}]}
            """, path: "m.json")
        #expect(book.profiles.first?.selector.macs.count == 2)
        #expect(book.defaults.bootFiles == [.bios: "undionly.kpxe"])
    }

    @Test(arguments: [
        ("machines:\n  - name: a\n    macth: {mac: 52:54:00:00:00:01}\n", 3, "unknown key 'macth'"),
        ("machines:\n  - name: a\n    match: {mac: 52:54:00:00:00:0g}\n", 3, "mac 52:54:00:00:00:0g does not read"),
        ("machines:\n  - name: a\n    match:\n      arch: amiga\n", 4, "arch amiga is none of"),
        ("machines:\n  - name: a\n    match: {ip: 192.0.2.0/40}\n", 3, "ip 192.0.2.0/40 is not an IPv4"),
        ("machines:\n  - match: {arch: bios}\n", 2, "a machine needs a name"),
        ("machines:\n  - name: a\n  - name: a\n", 3, "the name 'a' is used twice"),
        ("defaults:\n  vars: {mac: x}\n", 2, "'mac' is filled in by the server"),
        ("defaults:\n  boot: {amiga: x}\n", 2, "unknown key 'amiga'"),
        ("machines:\n  - name: a\n    script: x.ipxe\n    ipxe: '#!ipxe'\n", 4, "give script or ipxe, not both"),
        (
            "machines:\n  - name: a\n    ipxe: '#!ipxe {{ role }}'\n", 2,
            "its script uses {{ role }}, which no vars give"
        ),
        ("machines:\n  - name: a\n    ipxe: 'x {{ role'\n", 2, "{{ without }}"),
        ("machines: [a, b\n", 2, "not YAML"),
        ("defaults:\n  boot: [x]\n", 2, "boot must be a mapping"),
        ("script-path: ../x\n", 1, "not a name under the root"),
        ("machines: {a: b}\n", 1, "machines must be a list"),
    ])
    func mistakesNameTheirLine(_ text: String, _ line: Int, _ message: String) {
        do {
            _ = try MachinesFile.parse(text, path: "machines.yaml")
            Issue.record("read: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("machines.yaml:\(line): "), "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: MachinesFile.Failure(path: "/nonexistent/m.yaml", line: 0, message: "cannot be read")) {
            try MachinesFile.read(path: "/nonexistent/m.yaml")
        }
    }
}
