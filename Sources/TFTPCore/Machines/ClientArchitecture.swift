/// A boot client's system architecture, from DHCP option 93 (RFC 4578 §2.1, with the
/// values IANA registered since), named as `--boot-file` names them.
///
/// Firmware quirk: some x86-64 UEFI firmware sends 9 (registered for EFI byte code) where 7
/// is meant; dnsmasq and pixiecore treat both as x86-64 UEFI, and so does this type.
public enum ClientArchitecture: String, Sendable, CaseIterable, Hashable {
    case bios
    case efiIA32 = "efi-ia32"
    case efiX64 = "efi-x64"
    case efiARM32 = "efi-arm32"
    case efiARM64 = "efi-arm64"
    case efiIA32HTTP = "efi-ia32-http"
    case efiX64HTTP = "efi-x64-http"
    case efiARM32HTTP = "efi-arm32-http"
    case efiARM64HTTP = "efi-arm64-http"

    /// The architecture an option-93 value names, or nil for one this server has no name for.
    public init?(optionValue: UInt16) {
        switch optionValue {
        case 0: self = .bios
        case 6: self = .efiIA32
        case 7, 9: self = .efiX64
        case 10: self = .efiARM32
        case 11: self = .efiARM64
        case 15: self = .efiIA32HTTP
        case 16: self = .efiX64HTTP
        case 18: self = .efiARM32HTTP
        case 19: self = .efiARM64HTTP
        default: return nil
        }
    }

    /// Whether the firmware boots from an `http://` URL (UEFI HTTP boot) rather than TFTP.
    public var bootsOverHTTP: Bool {
        switch self {
        case .efiIA32HTTP, .efiX64HTTP, .efiARM32HTTP, .efiARM64HTTP: true
        default: false
        }
    }

    /// For an HTTP boot architecture, the PXE one whose boot file it falls back to (the same
    /// binary serves both): `efi-x64-http` uses `efi-x64`'s file unless it has its own.
    public var pxeCounterpart: ClientArchitecture? {
        switch self {
        case .efiIA32HTTP: .efiIA32
        case .efiX64HTTP: .efiX64
        case .efiARM32HTTP: .efiARM32
        case .efiARM64HTTP: .efiARM64
        default: nil
        }
    }
}
