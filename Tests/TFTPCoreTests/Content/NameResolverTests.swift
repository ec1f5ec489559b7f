import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// Per-client directories and case-insensitive names, on a real temporary tree: each
/// attempt goes through the door, so the hostile cases stay refused.
@Suite struct NameResolverTests {
    private static let client = Requester(address: "192.0.2.15", hex: "C000020F", isIPv6: false)

    private func contents(_ file: ContentFile) throws -> String {
        var buffer = ByteBuffer()
        try file.read(into: &buffer, offset: 0, length: Int(file.size))
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    private func open(_ name: String, _ resolver: NameResolver, _ root: ContentRoot, client: Requester = client)
        throws -> String
    {
        try contents(try resolver.open(try RequestPath(Array(name.utf8)), client: client, in: root))
    }

    @Test func caseInsensitiveFindsTheFileAndPrefersTheExactName() throws {
        let tree = try ContentRootTests.Tree()
        mkdir(tree.root + "/Boot", 0o755)
        try tree.write(tree.root + "/Boot/BCD", Array("bcd".utf8))
        try tree.write(tree.root + "/Boot/bcd.log", Array("upper".utf8))
        try tree.write(tree.root + "/Boot/BCD.LOG", Array("lower".utf8))
        try tree.write(tree.root + "/Boot/Bcd.Log", Array("mixed".utf8))
        let root = try ContentRoot(path: tree.root)
        let resolver = NameResolver(caseInsensitive: true)
        #expect(try open("boot/bcd", resolver, root) == "bcd")
        #expect(try open("BOOT/BCD", resolver, root) == "bcd")
        // Three names differ only in case: the exact one, else the smallest by bytes.
        #expect(try open("Boot/bcd.log", resolver, root) == "upper")
        #expect(try open("BOOT/BCD.log", resolver, root) == "lower")
        #expect(throws: ContentError.notFound) { try open("boot/none", resolver, root) }
        #expect(throws: ContentError.notFound) { try open("boot/bcd", NameResolver(), root) }
    }

    /// Case folding never leads out: a directory symlinked outside is refused by the door,
    /// whatever case the request uses.
    @Test func caseInsensitiveStaysBeneathTheRoot() throws {
        let tree = try ContentRootTests.Tree()
        let root = try ContentRoot(path: tree.root)
        let resolver = NameResolver(caseInsensitive: true)
        for name in ["DIR-OUTSIDE/secret", "dir-outside/SECRET", "Link-Outside", "LINK-ABSOLUTE", "link-zero"] {
            #expect(throws: (any Error).self, "\(name)") { try open(name, resolver, root) }
        }
        #expect(throws: ContentError.invalidName) { try open("SUB/../../outside/secret", resolver, root) }
    }

    @Test func perClientDirectoryByIPComesFirst() throws {
        let tree = try ContentRootTests.Tree()
        mkdir(tree.root + "/192.0.2.15", 0o755)
        try tree.write(tree.root + "/192.0.2.15/pxelinux.cfg", Array("own".utf8))
        try tree.write(tree.root + "/pxelinux.cfg", Array("common".utf8))
        let root = try ContentRoot(path: tree.root)
        let resolver = NameResolver(clientDirectory: .ip)
        #expect(try open("pxelinux.cfg", resolver, root) == "own")
        #expect(try open("sub/inner.txt", resolver, root) == "inner\n")
        let other = Requester(address: "192.0.2.16", hex: "C0000210", isIPv6: false)
        #expect(try open("pxelinux.cfg", resolver, root, client: other) == "common")
    }

    /// A client directory that is a symlink out of the root is refused, not followed and
    /// not silently skipped.
    @Test func perClientDirectorySymlinkedOutsideIsRefused() throws {
        let tree = try ContentRootTests.Tree()
        symlink(tree.outside, tree.root + "/192.0.2.15")
        let root = try ContentRoot(path: tree.root)
        #expect(throws: ContentError.outsideRoot) { try open("secret", NameResolver(clientDirectory: .ip), root) }
    }

    @Test func perClientDirectoryByMAC() throws {
        let tree = try ContentRootTests.Tree()
        mkdir(tree.root + "/52-54-00-12-34-56", 0o755)
        try tree.write(tree.root + "/52-54-00-12-34-56/menu", Array("own".utf8))
        try tree.write(tree.root + "/menu", Array("common".utf8))
        let table = tree.root + "/../arp"
        try tree.write(
            table,
            Array(
                """
                IP address       HW type     Flags       HW address            Mask     Device
                192.0.2.15       0x1         0x2         52:54:00:12:34:56     *        tap0
                192.0.2.16       0x1         0x0         00:00:00:00:00:00     *        tap0

                """.utf8))
        let root = try ContentRoot(path: tree.root)
        let resolver = NameResolver(clientDirectory: .mac, neighbours: NeighbourTable(path: table))
        #expect(try open("menu", resolver, root) == "own")
        // An incomplete entry, an unknown address, an IPv6 client: the common root.
        for client in [
            Requester(address: "192.0.2.16", hex: "", isIPv6: false),
            Requester(address: "192.0.2.99", hex: "", isIPv6: false),
            Requester(address: "2001:db8::15", hex: "", isIPv6: true),
        ] {
            #expect(try open("menu", resolver, root, client: client) == "common")
        }
    }

    /// What finding a name without regard to case costs in a directory of 10,000 entries
    /// (printed for the record; speed is not asserted here).
    @Test func costInALargeDirectory() throws {
        let tree = try ContentRootTests.Tree()
        mkdir(tree.root + "/big", 0o755)
        for index in 0..<10_000 { try tree.write(tree.root + "/big/File-\(index).bin", []) }
        let root = try ContentRoot(path: tree.root)
        let resolver = NameResolver(caseInsensitive: true)
        let exact = try RequestPath(Array("big/File-9999.bin".utf8))
        let folded = try RequestPath(Array("BIG/file-9999.BIN".utf8))
        let clock = ContinuousClock()
        let exactTime = clock.measure {
            for _ in 0..<100 { _ = try? resolver.open(exact, client: Self.client, in: root) }
        }
        let firstTime = clock.measure { _ = try? resolver.open(folded, client: Self.client, in: root) }
        let againTime = clock.measure {
            for _ in 0..<100 { _ = try? resolver.open(folded, client: Self.client, in: root) }
        }
        #expect(try resolver.open(folded, client: Self.client, in: root).size == 0)
        print(
            "case-insensitive lookup, 10,000 entries: exact name \(exactTime / 100), other case first \(firstTime),"
                + " other case again \(againTime / 100)")
    }
}
