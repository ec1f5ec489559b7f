import Testing

@testable import TFTPCore

/// `{{ name }}` is the server's; `${name}` is iPXE's and passes through.
@Suite struct BootTemplateTests {
    @Test func fieldsAreFilledAndIPXESettingsLeftAlone() throws {
        let template = """
            #!ipxe
            kernel http://${next-server}/vmlinuz role={{ role }} host={{hostname}}
            initrd http://${next-server}/initrd-{{ arch }}.img
            boot
            """
        let rendered = try BootTemplate.render(
            template, values: ["role": "worker", "hostname": "n7", "arch": "efi-x64"])
        #expect(
            rendered == """
                #!ipxe
                kernel http://${next-server}/vmlinuz role=worker host=n7
                initrd http://${next-server}/initrd-efi-x64.img
                boot
                """)
        #expect(try BootTemplate.names(in: template) == ["role", "hostname", "arch"])
    }

    @Test func anUnknownNameIsAnErrorWithItsLine() {
        #expect(throws: BootTemplate.Failure.unknownName("rol", line: 3)) {
            try BootTemplate.render("#!ipxe\necho\nkernel x role={{ rol }}\n", values: ["role": "w"])
        }
    }

    @Test func bracesThatDoNotCloseAreAnError() {
        #expect(throws: BootTemplate.Failure.unclosed(line: 2)) {
            try BootTemplate.render("#!ipxe\nkernel {{ role\n}}", values: ["role": "w"])
        }
        #expect(throws: BootTemplate.Failure.unclosed(line: 1)) {
            try BootTemplate.render("x {{ y", values: [:])
        }
    }

    @Test func textWithoutFieldsIsAsItWas() throws {
        let text = "#!ipxe\nchain ${filename} || shell\n{ not a field }\n"
        #expect(try BootTemplate.render(text, values: [:]) == text)
    }
}
