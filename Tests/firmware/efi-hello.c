/* The smallest UEFI application: prints the line the firmware harness waits for on the
 * console and returns to the firmware. Built for AArch64 by Tests/firmware/proxy-dhcp with
 * the toolchain's clang (--target=aarch64-windows, lld-link, subsystem efi_application), so
 * the ARM64 UEFI boot through the proxy needs no cross toolchain and no Debian arm64
 * package. The types are the UEFI specification's, reduced to what is used. */
typedef unsigned short CHAR16;
typedef unsigned long long UINTN;
typedef UINTN EFI_STATUS;
typedef void *EFI_HANDLE;

typedef struct {
    unsigned long long Signature;
    unsigned int Revision, HeaderSize, CRC32, Reserved;
} EFI_TABLE_HEADER;

typedef struct SIMPLE_TEXT_OUTPUT {
    EFI_STATUS (*Reset)(struct SIMPLE_TEXT_OUTPUT *self, unsigned char extended);
    EFI_STATUS (*OutputString)(struct SIMPLE_TEXT_OUTPUT *self, CHAR16 *text);
} SIMPLE_TEXT_OUTPUT;

typedef struct {
    EFI_TABLE_HEADER Hdr;
    CHAR16 *FirmwareVendor;
    unsigned int FirmwareRevision;
    EFI_HANDLE ConsoleInHandle;
    void *ConIn;
    EFI_HANDLE ConsoleOutHandle;
    SIMPLE_TEXT_OUTPUT *ConOut;
} EFI_SYSTEM_TABLE;

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *system) {
    (void)image;
    system->ConOut->OutputString(system->ConOut, (CHAR16 *)L"\r\nfwboot end ok (arm64 efi application)\r\n");
    return 0;
}
