import Testing

@testable import TFTPCore

@Suite struct FilenameMapTests {
    private func map(_ rules: String...) -> FilenameMap {
        FilenameMap(rules.compactMap(FilenameMap.Rule.init(parsing:)))
    }
    private func apply(_ map: FilenameMap, _ name: String) -> String {
        String(decoding: try! map.apply(Array(name.utf8)), as: UTF8.self)
    }

    @Test func rulesApplyInOrderEachToTheResultOfTheOnesBefore() {
        let rules = map("tftpboot/=", "pxelinux.cfg/=site-a/pxelinux.cfg/")
        #expect(apply(rules, "/tftpboot/pxelinux.cfg/default") == "site-a/pxelinux.cfg/default")
        #expect(apply(rules, "pxelinux.cfg/01-aa-bb") == "site-a/pxelinux.cfg/01-aa-bb")
        #expect(apply(rules, "tftpboot/kernel") == "kernel")
        #expect(apply(rules, "other/tftpboot/x") == "other/tftpboot/x")
    }

    @Test func leadingSlashesAreIgnoredOnBothSides() {
        #expect(apply(map("/boot/=images/"), "//boot/x") == "images/x")
        #expect(apply(map("boot/=/images/"), "boot/x") == "images/x")
    }

    @Test func noRulesLeaveTheNameAlone() {
        #expect(apply(FilenameMap(), "/a//b") == "/a//b")
    }

    @Test(arguments: ["", "=x", "/=x", "noequals", "a\u{0}=b"])
    func malformedRulesAreRefused(_ text: String) {
        #expect(FilenameMap.Rule(parsing: text) == nil)
    }

    /// A map cannot open a way out: the result still goes through RequestPath.
    @Test func aRuleLeadingOutIsStillRefusedBySanitizer() throws {
        let rewritten = try map("x/=../").apply(Array("x/etc/passwd".utf8))
        #expect(throws: ContentError.invalidName) { try RequestPath(rewritten) }
    }
}
