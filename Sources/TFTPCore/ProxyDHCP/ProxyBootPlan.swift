/// What the proxy tells boot clients, whatever the interface: a boot file per architecture
/// and, for iPXE, a script. Pure settings, built from `--boot-file` and `--ipxe-script`.
public struct ProxyBootPlan: Hashable, Sendable {
    /// Names under the root (fetched over TFTP, or over HTTP by HTTP boot clients), or full
    /// URLs passed on as they are.
    public var bootFiles: [ClientArchitecture: String]
    /// For iPXE: a URL passed on as it is, or a name under the root that iPXE fetches from
    /// this server's HTTP listener. Without it, iPXE is treated as any PXE client.
    public var iPXEScript: String?

    public init(bootFiles: [ClientArchitecture: String], iPXEScript: String? = nil) {
        self.bootFiles = bootFiles
        self.iPXEScript = iPXEScript
    }

    /// The boot file for an architecture: its own, or for an HTTP boot one its PXE
    /// counterpart's.
    public func bootFile(for architecture: ClientArchitecture) -> String? {
        bootFiles[architecture] ?? architecture.pxeCounterpart.flatMap { bootFiles[$0] }
    }

    /// Whether some client would be told a URL on this server's HTTP listener: an HTTP boot
    /// architecture's file, or the iPXE script, given as a name under the root.
    public var needsHTTPListener: Bool {
        let httpFiles = bootFiles.filter { $0.key.bootsOverHTTP }.values
        return httpFiles.contains { !Self.isURL($0) } || iPXEScript.map { !Self.isURL($0) } ?? false
    }

    /// Whether a value is a URL to pass on rather than a name under the root.
    static func isURL(_ value: String) -> Bool { value.contains("://") }
}
