import Glibc

/// DHCP requests captured from real firmware and clients on this project's machine
/// (`Tests/firmware/proxy-dhcp --keep DIR`, then the UDP payloads of `all.pcap`): QEMU 7.2
/// with Debian 12's iPXE ROM and ipxe.efi, OVMF 2022.11, busybox 1.35 udhcpc. They are the
/// DHCP fuzz target's seeds, read from `fixtures/fuzz/DHCPFuzz`.
enum DHCPCaptures {
    static let iPXEBIOSDiscover = load("iPXEBIOSDiscover")
    static let edk2PXEDiscover = load("edk2PXEDiscover")
    static let edk2PXERequestToDHCPServer = load("edk2PXERequestToDHCPServer")
    static let edk2BootServiceRequest = load("edk2BootServiceRequest")
    static let edk2HTTPDiscover = load("edk2HTTPDiscover")
    static let iPXEEFIDiscover = load("iPXEEFIDiscover")
    static let udhcpcDiscover = load("udhcpcDiscover")

    static let all: [(String, [UInt8])] = [
        ("iPXEBIOSDiscover", iPXEBIOSDiscover),
        ("edk2PXEDiscover", edk2PXEDiscover),
        ("edk2PXERequestToDHCPServer", edk2PXERequestToDHCPServer),
        ("edk2BootServiceRequest", edk2BootServiceRequest),
        ("edk2HTTPDiscover", edk2HTTPDiscover),
        ("iPXEEFIDiscover", iPXEEFIDiscover),
        ("udhcpcDiscover", udhcpcDiscover),
    ]

    /// The file's bytes; empty when it cannot be read (every test on it then fails).
    private static func load(_ name: String) -> [UInt8] {
        let repository = "\(#filePath)".split(separator: "/").dropLast(4).joined(separator: "/")
        guard let file = fopen("/\(repository)/fixtures/fuzz/DHCPFuzz/\(name)", "rb") else { return [] }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = fread(&bytes, 1, bytes.count, file)
        return Array(bytes.prefix(count))
    }
}
