import Testing

@testable import TFTPOrigin

@Suite struct OriginConfigurationTests {
    /// Each name's bytes are percent-encoded but for RFC 3986's unreserved characters and
    /// the separators, so a name with a space or a `?` is the origin's file of that name.
    @Test func aNameIsAppendedToTheOriginEncoded() {
        let configuration = OriginConfiguration(url: "http://origin.example/boot/", cacheDirectory: "/var/cache/tftpd")
        #expect(configuration.url == "http://origin.example/boot")
        #expect(
            configuration.url(of: Array("images/vmlinuz-6.1_x86~64".utf8))
                == "http://origin.example/boot/images/vmlinuz-6.1_x86~64")
        #expect(configuration.url(of: Array("a b?c#d%e".utf8)) == "http://origin.example/boot/a%20b%3Fc%23d%25e")
        #expect(configuration.url(of: [0xC3, 0xA9]) == "http://origin.example/boot/%C3%A9")
    }

    /// A boot storm's probes for names the origin lacks are believed for at most ten
    /// seconds, never longer than a copy is fresh.
    @Test func absenceIsBelievedBriefly() {
        #expect(
            OriginConfiguration(url: "http://o", cacheDirectory: "/c", freshness: .seconds(3600)).absenceFreshness
                == .seconds(10))
        #expect(
            OriginConfiguration(url: "http://o", cacheDirectory: "/c", freshness: .seconds(2)).absenceFreshness
                == .seconds(2))
    }
}
