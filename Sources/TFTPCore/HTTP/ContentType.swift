/// Content-Type from the file extension, with the boot files operators serve. Anything
/// unknown is `application/octet-stream`; with `nosniff` a browser will not guess.
public enum ContentType {
    public static func forName(_ name: [UInt8]) -> String {
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")) else { return "application/octet-stream" }
        let ext = String(decoding: name[(dot + 1)...], as: UTF8.self).lowercased()
        return types[ext] ?? "application/octet-stream"
    }

    static let types: [String: String] = [
        "txt": "text/plain; charset=utf-8",
        "cfg": "text/plain; charset=utf-8",
        "conf": "text/plain; charset=utf-8",
        "ipxe": "text/plain; charset=utf-8",
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "json": "application/json",
        "xml": "application/xml",
        "efi": "application/efi",
        "iso": "application/x-iso9660-image",
        "img": "application/octet-stream",
        "gz": "application/gzip",
        "tgz": "application/gzip",
        "xz": "application/x-xz",
        "zst": "application/zstd",
        "bz2": "application/x-bzip2",
        "tar": "application/x-tar",
        "cpio": "application/x-cpio",
        "sig": "application/pgp-signature",
        "asc": "application/pgp-signature",
    ]
}
