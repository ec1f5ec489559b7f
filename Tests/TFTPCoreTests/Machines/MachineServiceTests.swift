import Foundation
import NIOCore
import Testing

@testable import TFTPCore

/// The proxy's per-machine plan and the rendered script, on a real root.
@Suite struct MachineServiceTests {
    private static let mac = MACAddress("52:54:00:00:03:01")!

    private func service() -> MachineService {
        MachineService(
            book: MachineBook(
                defaults: MachineProfile(name: "default", script: .inline("#!ipxe\necho default {{ mac }}\n")),
                profiles: [
                    MachineProfile(
                        name: "install", selector: MachineSelector(macs: [Self.mac]), bootFiles: [.efiX64: "snp.efi"],
                        script: .file("templates/install.ipxe"), variables: ["role": "worker"])
                ]))
    }

    @Test func theProxyPlanIsTheProfilesOverTheFlags() {
        let fallback = ProxyBootPlan(bootFiles: [.bios: "undionly.kpxe", .efiX64: "ipxe.efi"], iPXEScript: "flag.ipxe")
        let (plan, profile) = service().plan(for: MachineIdentity(mac: Self.mac), fallback: fallback)
        #expect(profile == "install")
        #expect(plan.bootFiles == [.bios: "undionly.kpxe", .efiX64: "snp.efi"])
        #expect(plan.iPXEScript == "boot.ipxe?mac=52:54:00:00:03:01")
    }

    @Test func theScriptIsRenderedForTheMachineThroughTheDoor() throws {
        let tree = try ContentRootTests.Tree()
        try FileManager.default.createDirectory(atPath: tree.root + "/templates", withIntermediateDirectories: true)
        try "#!ipxe\nkernel vmlinuz role={{ role }} mac={{ mac }} ${net0/ip}\n".write(
            toFile: tree.root + "/templates/install.ipxe", atomically: true, encoding: .utf8)
        let root = try ContentRoot(path: tree.root)
        let service = service()
        let path = try RequestPath(Array("boot.ipxe".utf8))
        let rendered = try #require(service.script(for: path, machine: MachineIdentity(mac: Self.mac), root: root))
        #expect(
            String(buffer: try rendered.get())
                == "#!ipxe\nkernel vmlinuz role=worker mac=52:54:00:00:03:01 ${net0/ip}\n")
        let other = try #require(service.script(for: path, machine: MachineIdentity(), root: root))
        #expect(String(buffer: try other.get()) == "#!ipxe\necho default \n")
        // Any other name is not the script's.
        #expect(
            service.script(for: try RequestPath(Array("ipxe.efi".utf8)), machine: MachineIdentity(), root: root) == nil)
    }

    /// A template that names a value its profile does not give: an error with its line, for
    /// the log; the machine gets a refusal, not a half-rendered script.
    @Test func aBrokenTemplateIsRefused() throws {
        let tree = try ContentRootTests.Tree()
        try FileManager.default.createDirectory(atPath: tree.root + "/templates", withIntermediateDirectories: true)
        try "#!ipxe\n\nkernel x {{ rol }}\n".write(
            toFile: tree.root + "/templates/install.ipxe", atomically: true, encoding: .utf8)
        let result = try #require(
            service().script(
                for: try RequestPath(Array("boot.ipxe".utf8)), machine: MachineIdentity(mac: Self.mac),
                root: try ContentRoot(path: tree.root)))
        #expect(throws: ContentError.scriptFailed("profile install: line 3: {{ rol }} names no value")) {
            try result.get()
        }
    }
}
