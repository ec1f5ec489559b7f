import Testing

@testable import TFTPCore

@Suite struct DirectoryListingTests {
    @Test func namesAreEscapedAndEncoded() {
        let html = DirectoryListing.html(
            title: Array("sub".utf8),
            entries: [
                .init(name: Array("<script>alert(1)</script>".utf8), isDirectory: false),
                .init(name: Array("a\"b'&c".utf8), isDirectory: true),
            ])
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("href=\"%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""))
        #expect(html.contains("href=\"a%22b%27%26c/\">a&quot;b&#39;&amp;c/</a>"))
    }
}
