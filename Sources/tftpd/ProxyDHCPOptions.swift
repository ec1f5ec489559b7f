import ArgumentParser
import TFTPCore

/// proxyDHCP: off unless `--proxy-dhcp` names an interface.
struct ProxyDHCPOptions: ParsableArguments {
    @Option(
        name: .customLong("proxy-dhcp"),
        help: ArgumentHelp(
            "Answer PXE and HTTP boot clients on this interface as a proxyDHCP server (ports 67 and 4011): where to boot from, never an address. Repeatable.",
            valueName: "iface"
        )
    )
    var interfaces: [String] = []

    @Option(
        name: .customLong("boot-file"),
        help: ArgumentHelp(
            "proxyDHCP: the boot file for an architecture (\(ClientArchitecture.allCases.map(\.rawValue).joined(separator: ", "))), a name under the root or a URL. Repeatable.",
            valueName: "arch=file"
        )
    )
    var bootFiles: [String] = []

    @Option(
        name: .customLong("ipxe-script"),
        help: ArgumentHelp(
            "proxyDHCP: what iPXE is told to fetch instead of its own binary again: a URL, or a name under the root served by --http.",
            valueName: "url|name"
        )
    )
    var iPXEScript: String?

    @Flag(
        name: .customLong("proxy-https"),
        help:
            "proxyDHCP: hand out https:// URLs on the --https listener (HTTP boot files, the iPXE script) instead of http:// ones."
    )
    var preferHTTPS = false

    func validate() throws {
        for entry in bootFiles {
            guard Self.parse(entry) != nil else {
                throw ValidationError(
                    "--boot-file \(entry): expected ARCH=FILE with ARCH one of \(ClientArchitecture.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }
        if interfaces.isEmpty {
            guard bootFiles.isEmpty, iPXEScript == nil, !preferHTTPS else {
                throw ValidationError("--boot-file, --ipxe-script and --proxy-https need --proxy-dhcp IFACE")
            }
        }
    }

    static func parse(_ entry: String) -> (ClientArchitecture, String)? {
        guard let equals = entry.firstIndex(of: "="),
            let architecture = ClientArchitecture(rawValue: String(entry[..<equals]))
        else { return nil }
        let file = String(entry[entry.index(after: equals)...])
        return file.isEmpty ? nil : (architecture, file)
    }

    /// The proxy's settings, or nil when it is off. With `--proxy-https` the URLs it hands
    /// out name the `--https` listeners.
    func configuration(httpListen: [ListenAddress], httpsListen: [ListenAddress]) -> ProxyDHCPConfiguration? {
        guard !interfaces.isEmpty else { return nil }
        var files: [ClientArchitecture: String] = [:]
        for (architecture, file) in bootFiles.compactMap(Self.parse) { files[architecture] = file }
        return ProxyDHCPConfiguration(
            interfaces: interfaces, plan: ProxyBootPlan(bootFiles: files, iPXEScript: iPXEScript),
            httpListen: preferHTTPS ? [] : httpListen, httpsListen: preferHTTPS ? httpsListen : [])
    }
}
