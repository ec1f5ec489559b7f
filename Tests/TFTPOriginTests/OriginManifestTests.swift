import Testing

@testable import TFTPOrigin

/// The manifest as `sha256sum` writes it and `sha256sum -c` reads it.
@Suite struct OriginManifestTests {
    static let a = String(repeating: "a", count: 64)
    static let b = String(repeating: "B", count: 64)

    @Test func readsTextAndBinaryLinesAndSkipsTheRest() {
        let manifest = OriginManifest(
            parsing: """
                # made by the release job
                \(Self.a)  vmlinuz
                \(Self.b) *initrd.img\r
                \(Self.a)  ./grub/grub.cfg

                not a line
                \(Self.a.prefix(63))  short
                \(Self.a)
                """)
        #expect(manifest.digest(of: "vmlinuz") == Self.a)
        #expect(manifest.digest(of: "initrd.img") == Self.b.lowercased())
        #expect(manifest.digest(of: "grub/grub.cfg") == Self.a)
        #expect(manifest.digests.count == 3)
        #expect(manifest.unreadableLines == 3)
    }

    /// Names are relative to the manifest's folder.
    @Test func namesAreBesideTheManifest() {
        let manifest = OriginManifest(parsing: "\(Self.a)  vmlinuz\n", directory: "releases/2026-12")
        #expect(manifest.digest(of: "releases/2026-12/vmlinuz") == Self.a)
        #expect(manifest.digest(of: "vmlinuz") == nil)
    }
}
