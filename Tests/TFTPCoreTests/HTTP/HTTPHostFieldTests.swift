import Testing

@testable import TFTPCore

/// RFC 9110 §7.2's `uri-host [ ":" port ]`.
@Suite struct HTTPHostFieldTests {
    @Test(arguments: [
        "", "boot.example", "boot.example:8080", "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80",
        "a-b_c~d.e", "host:", "xn--bcher-kva.example", "%41.example",
    ])
    func valid(_ value: String) {
        #expect(HTTPHostField.isValid(value))
    }

    @Test(arguments: [
        "a b", "a/b", "a@b", "host:80x", "[2001:db8::1", "[]", "[2001:db8::1]x", "a:1:2", "ho\"st", "[::1]:8o",
    ])
    func invalid(_ value: String) {
        #expect(!HTTPHostField.isValid(value))
    }
}
