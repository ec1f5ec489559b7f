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
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Funday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 8:49:37 1994",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT", "",
    ])
    func rejectsOtherForms(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    /// RFC 9110 §5.6.7: recipients MUST accept the two obsolete forms as well.
    @Test(arguments: ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
    func acceptsTheThreeForms(_ text: String) {
        #expect(HTTPDate.parse(text, now: 1_795_000_000) == 784_111_777)
    }

    /// A two-digit year more than 50 years ahead is the most recent past year with those digits.
    @Test func twoDigitYearsAreInterpretedAroundNow() {
        let in2026 = 1_795_000_000
        #expect(
            HTTPDate.parse("Tuesday, 06-Nov-29 08:49:37 GMT", now: in2026)
                == HTTPDate.parse("Tue, 06 Nov 2029 08:49:37 GMT"))
        #expect(
            HTTPDate.parse("Sunday, 06-Nov-77 08:49:37 GMT", now: in2026)
                == HTTPDate.parse("Sun, 06 Nov 1977 08:49:37 GMT"))
        #expect(
            HTTPDate.parse("Saturday, 06-Nov-76 08:49:37 GMT", now: in2026)
                == HTTPDate.parse("Fri, 06 Nov 2076 08:49:37 GMT"))
    }
}
