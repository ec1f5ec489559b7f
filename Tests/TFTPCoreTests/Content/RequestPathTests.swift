import Testing

@testable import TFTPCore

@Suite struct RequestPathTests {
    private func path(_ s: String) throws(ContentError) -> String {
        try RequestPath(Array(s.utf8)).description
    }

    static let accepted: [(String, String)] = [
        ("pxelinux.0", "pxelinux.0"),
        ("/pxelinux.0", "pxelinux.0"),
        ("//boot///grub//grub.cfg", "boot/grub/grub.cfg"),
        ("\\Boot\\x64\\wdsnbp.com", "Boot/x64/wdsnbp.com"),
        ("./a/./b", "a/b"),
        ("pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/01-52-54-00-12-34-56"),
        ("...", "..."),
        ("..foo", "..foo"),
        ("foo..", "foo.."),
        ("/", "."),
        ("", "."),
    ]

    @Test(arguments: accepted)
    func sanitized(_ input: String, _ expected: String) throws {
        #expect(try path(input) == expected)
        // The components are the joined path split again; the root has none.
        let request = try RequestPath(Array(input.utf8))
        #expect(request.isRoot == (expected == "."))
        let parts = expected == "." ? [] : expected.split(separator: "/").map { Array($0.utf8) }
        #expect(request.components == parts)
        #expect(request.lastComponent == parts.last)
    }

    static let refused: [String] = [
        "..",
        "../etc/passwd",
        "/../etc/passwd",
        "a/../../etc/passwd",
        "a/..",
        "..\\..\\windows",
        "a\\..\\b",
        "a/\0/b",
        String(repeating: "a", count: 256),
        String(repeating: "a/", count: 513),
    ]

    @Test(arguments: refused)
    func refusedNames(_ input: String) {
        #expect(throws: ContentError.invalidName) { try path(input) }
    }

    @Test func nonUTF8BytesAreKept() throws {
        let raw: [UInt8] = [0xC3, 0x28, UInt8(ascii: "/"), 0xFF]
        #expect(try RequestPath(raw).relativePath == raw)
    }

    @Test func trailingSeparatorIsRemembered() throws {
        #expect(try RequestPath(Array("dir/".utf8)).hasTrailingSeparator)
        #expect(try !RequestPath(Array("dir".utf8)).hasTrailingSeparator)
    }

    @Test func longestAcceptedComponent() throws {
        let name = String(repeating: "b", count: 255)
        #expect(try path(name) == name)
    }
}
