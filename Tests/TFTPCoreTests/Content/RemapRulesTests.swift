import Testing

@testable import TFTPCore

/// tftp-hpa's remap file: its manual's sample rules, a Windows-style set, every flag and
/// escape, and the errors that name the line.
@Suite struct RemapRulesTests {
    /// tftp-hpa's own sample rule file (examples/sample.rules), as shipped.
    static let sample = ##"""
        #
        # Sample rule file for the -m (remapping option)
        #
        ri	^[a-z]:				# Remove "drive letters"
        rg	\\		/		# Convert backslashes to slashes
        rg	\#		@		# Convert hash marks to @ signs
        rg	/../		/..no../	# Convert /../ to /..no../
        e	^ok/				# These are always ok
        r	^[^/]		/tftpboot/\0	# Convert non-absolute files
        a	\.pvt$				# Reject requests for private files
        """##

    static let client = Requester(address: "192.0.2.169", hex: "C00002A9", isIPv6: false)
    static let client6 = Requester(
        address: "2001:db8::1", hex: "20010DB8000000000000000000000001", isIPv6: true)

    private func apply(_ rules: String, _ name: String, client: Requester = client) throws -> String {
        let remap = try RemapRules(parsing: rules)
        return String(decoding: try remap.apply(Array(name.utf8), client: client), as: UTF8.self)
    }

    @Test(arguments: [
        (#"C:\Boot\BCD"#, "/Boot/BCD"),
        ("pxelinux.0", "/tftpboot/pxelinux.0"),
        ("ok/file", "ok/file"),
        ("a#b", "/tftpboot/a@b"),
        ("x/../y", "/tftpboot/x/..no../y"),
        ("/abs/path", "/abs/path"),
    ])
    func theManualsSample(_ name: String, _ result: String) throws {
        #expect(try apply(Self.sample, name) == result)
    }

    @Test func theSampleRefusesPrivateFiles() {
        #expect(throws: ContentError.refusedByRule) { try apply(Self.sample, "keys.pvt") }
    }

    /// What Windows Deployment clients need: backslashes, any case, one canonical tree.
    static let windows = #"""
        # Windows boot manager asks \Boot\BCD, \boot\bcd, \BOOT\Fonts\wgl4_boot.ttf ...
        rg  \\                 /
        r   ^/
        ri  ^boot/             Boot/
        ri  ^Boot/bcd$         Boot/BCD
        ri  ^Boot/fonts/(.*)$  Boot/Fonts/\L\1
        """#

    @Test(arguments: [
        (#"\Boot\BCD"#, "Boot/BCD"), (#"boot\bcd"#, "Boot/BCD"),
        (#"\BOOT\FONTS\WGL4_BOOT.TTF"#, "Boot/Fonts/wgl4_boot.ttf"),
        (#"boot\fonts\WGL4_Boot.ttf"#, "Boot/Fonts/wgl4_boot.ttf"),
    ])
    func windowsStyle(_ name: String, _ result: String) throws {
        #expect(try apply(Self.windows, name) == result)
    }

    @Test func escapesAndCase() throws {
        #expect(try apply(#"r ^(.*)$ hosts/\i/\1"#, "menu") == "hosts/192.0.2.169/menu")
        #expect(
            try apply(#"r ^pxelinux.cfg/default$ pxelinux.cfg/\x"#, "pxelinux.cfg/default") == "pxelinux.cfg/C00002A9")
        #expect(try apply(#"r ^(.*)$ \U\1\E-\1-\L\1"#, "aBc") == "ABC-aBc-abc")
        #expect(try apply(##"r x a\ b\#c\\d"##, "x") == #"a b#c\d"#)
        #expect(try apply("r4 ^ v4/\nr6 ^ v6/", "f") == "v4/f")
        #expect(try apply("r4 ^ v4/\nr6 ^ v6/", "f", client: Self.client6) == "v6/f")
        #expect(try apply("rP ^ uploads/\nrG ^ boot/", "f") == "boot/f")
    }

    @Test func inverseEndAndRestart() throws {
        // ~: refuse everything not under boot/; e stops; s starts over.
        #expect(throws: ContentError.refusedByRule) { try apply("a~ ^boot/", "etc/x") }
        #expect(try apply("a~ ^boot/", "boot/x") == "boot/x")
        #expect(try apply("re ^a b\nr ^b c", "a") == "b")
        #expect(try apply("r ^old/ new/\nrs ^new/x new/y\nr ^new/y$ final", "old/x") == "final")
    }

    /// A rule set that loops is refused after 1,024 steps, as tftp-hpa does.
    @Test func loopsAreRefused() {
        #expect(throws: ContentError.refusedByRule) { try apply("rs ^a a", "a") }
        #expect(throws: ContentError.refusedByRule) { try apply("rg a aa", "a") }
    }

    @Test(arguments: [
        ("r", 1, "no regular expression"),
        ("# fine\nrz ^a b", 2, "unknown flag \"z\""),
        ("\n\nrx ^a", 3, "unknown flag \"x\""),
        ("r~ ^a b", 1, "flags r and ~ exclude each other"),
        ("g ^a", 1, "flag g needs flag r"),
        ("r ^(a b", 1, "regular expression"),
        ("r a b c", 1, "more than three fields"),
    ])
    func errorsNameTheLine(_ rules: String, _ line: Int, _ reason: String) {
        do {
            _ = try RemapRules(parsing: rules)
            Issue.record("accepted")
        } catch {
            #expect(error.line == line)
            #expect(error.reason.hasPrefix(reason))
        }
    }

    @Test func dependsOnClient() throws {
        #expect(try !RemapRules(parsing: Self.sample).dependsOnClient)
        #expect(try RemapRules(parsing: #"r ^ \i/"#).dependsOnClient)
        #expect(try RemapRules(parsing: "a6 ^x").dependsOnClient)
    }
}
