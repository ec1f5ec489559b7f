import Testing

@testable import TFTPCore

/// Percent-decoding happens before the one sanitizer, so encoded traversal is refused
/// exactly like the plain one.
@Suite struct HTTPRequestTargetTests {
    private func path(_ target: String) -> String? {
        guard case .success(let path) = HTTPRequestTarget.path(target) else { return nil }
        return path.description
    }

    @Test func decodesAndStripsQuery() {
        #expect(path("/images/vm%6Cinuz?x=1#top") == "images/vmlinuz")
        #expect(path("/a%20b") == "a b")
        #expect(path("/") == ".")
        #expect(path("http://example/boot.ipxe") == "boot.ipxe")
        #expect(path("/a%2fb") == "a/b")
        #expect(path("/a%5cb") == "a/b")
    }

    @Test(arguments: [
        "/..", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc", "/a/%2e%2e/%2e%2e/b", "/a%00b", "/..%5c..%5cwindows",
        "/%2e%2e%2f%2e%2e%2f", "/x/..",
    ])
    func traversalIsRefused(_ target: String) {
        #expect(HTTPRequestTarget.path(target) == .failure(.content(.invalidName)))
    }

    @Test(arguments: ["*", "example.com:80", "a/b", "/%", "/%2", "/%zz", ""])
    func malformedTargets(_ target: String) {
        #expect(HTTPRequestTarget.path(target) == .failure(.malformed))
    }

    @Test func encodeKeepsUnreservedOnly() {
        #expect(HTTPRequestTarget.encode(Array("a b/<&>%.txt".utf8)) == "a%20b%2F%3C%26%3E%25.txt")
        #expect(HTTPRequestTarget.encode([0xFF, 0x41]) == "%FFA")
    }
}
