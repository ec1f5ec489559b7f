import Testing

@testable import TFTPCore

@Suite struct HTTPDateTests {
    /// RFC 9110 §5.6.7's example, and the epoch.
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }

    @Test(arguments: [0, 784_111_777, 951_782_400, 1_795_000_000, 4_102_444_799])
    func parsesWhatItFormats(_ seconds: Int) {
        #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
    }

    @Test(arguments: [
        "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT", "",
    ])
    func rejectsOtherForms(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }
}
