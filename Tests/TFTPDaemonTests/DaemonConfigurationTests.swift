import ArgumentParser
import NIOCore
import Testing

@testable import TFTPCore
@testable import tftpd

/// Flags in, configuration out, nothing bound: what each flag becomes, and the flags each
/// group refuses with a message naming the flag.
@Suite struct DaemonConfigurationTests {
    private func configuration(_ flags: [String], inherited: [CInt] = []) throws -> DaemonConfiguration {
        let command = try TFTPDaemon.parse(["--root", "/srv/tftp"] + flags)
        return DaemonConfiguration(
            content: command.content, listen: command.listen, transfer: command.transfer, http: command.http,
            proxy: command.proxy,
            operator: command.operations, inheritedSockets: inherited, coreCount: 6)
    }

    @Test func defaults() throws {
        let daemon = try configuration([])
        #expect(daemon.server.listen == [ListenAddress(host: "::", port: 69)])
        #expect(daemon.server.threads == 6)
        #expect(daemon.server.fitBlockSizeToMTU)
        #expect(daemon.server.contentPolicy == ContentRoot.Policy(requireWorldReadable: true, followSymlinks: true))
        #expect(daemon.server.transfer.retransmit.unprovenRetransmits == 1)
        #expect(daemon.server.board == nil)
        #expect(daemon.http == nil && daemon.metrics == nil && daemon.status == nil)
        #expect(daemon.bindings.map(\.flag) == ["--listen"])
        #expect(daemon.listeningServices == 1)
    }

    /// Sockets from systemd replace the default `:69`.
    @Test func socketActivationBindsNothingByDefault() throws {
        #expect(try configuration([], inherited: [3]).server.listen.isEmpty)
        #expect(try configuration(["--listen", "127.0.0.1:69"], inherited: [3]).server.listen.count == 1)
    }

    @Test func everyConcernReachesItsConfiguration() throws {
        let daemon = try configuration([
            "--listen", "127.0.0.1:6969", "--threads", "2", "--port-range", "50000:50010",
            "--max-blksize", "1428", "--max-windowsize", "16", "--timeout", "500", "--retries", "3",
            "--late-ack-wait", "0", "--grace-period", "4", "--permissive", "--no-symlinks",
            "--map", "tftpboot/=", "--http", "[::1]:8080", "--http-listing", "--http-idle-timeout", "5",
            "--metrics", "127.0.0.1:9169", "--status", "127.0.0.1:9170", "--log-format", "json",
            "--log-level", "debug",
        ])
        #expect(daemon.server.threads == 2)
        #expect(daemon.server.portRange == 50000...50010)
        #expect(!daemon.server.fitBlockSizeToMTU)
        #expect(daemon.server.transfer.limits.maxBlockSize == 1428)
        #expect(daemon.server.transfer.limits.maxWindowSize == 16)
        #expect(daemon.server.transfer.retransmit.initialTimeout == .milliseconds(500))
        #expect(daemon.server.transfer.retransmit.maxRetries == 3)
        #expect(daemon.server.transfer.suspension == .zero)
        #expect(daemon.server.gracePeriod == .seconds(4))
        #expect(daemon.server.contentPolicy == ContentRoot.Policy(requireWorldReadable: false, followSymlinks: false))
        #expect(daemon.server.filenameMap.rules.count == 1)
        #expect(daemon.server.board != nil)
        let http = try #require(daemon.http)
        #expect(http.listen == [ListenAddress(host: "::1", port: 8080)])
        #expect(http.listing && http.idleTimeout == .seconds(5) && http.gracePeriod == .seconds(4))
        #expect(http.filenameMap.rules == daemon.server.filenameMap.rules)
        #expect(daemon.logFormat == .json && daemon.logLevel == .debug)
        #expect(daemon.bindings.map(\.flag) == ["--listen", "--http", "--metrics", "--status"])
        #expect(daemon.bindings.map(\.transport) == [.udp, .tcp, .tcp, .tcp])
        #expect(daemon.listeningServices == 4)
    }

    @Test func proxyDHCPFlags() throws {
        let daemon = try configuration([
            "--proxy-dhcp", "eth0", "--proxy-dhcp", "eth1", "--boot-file", "bios=undionly.kpxe",
            "--boot-file", "efi-x64=ipxe.efi", "--boot-file", "efi-x64=snponly.efi", "--ipxe-script", "boot.ipxe",
            "--http", "0.0.0.0:8080",
        ])
        let proxy = try #require(daemon.proxyDHCP)
        #expect(proxy.interfaces == ["eth0", "eth1"])
        // The last --boot-file for an architecture wins.
        #expect(proxy.plan.bootFiles == [.bios: "undionly.kpxe", .efiX64: "snponly.efi"])
        #expect(proxy.plan.iPXEScript == "boot.ipxe")
        #expect(proxy.site(for: IPv4Address("192.0.2.1")!).url(path: "x") == "http://192.0.2.1:8080/x")
        #expect(daemon.listeningServices == 3)
        #expect(try configuration([]).proxyDHCP == nil)
        // An HTTP listener on another address is no use to the interface's clients.
        let elsewhere = try configuration(["--proxy-dhcp", "eth0", "--boot-file", "bios=x", "--http", "192.0.2.9:80"])
        #expect(elsewhere.proxyDHCP?.site(for: IPv4Address("192.0.2.1")!).httpPort == nil)
        #expect(elsewhere.proxyDHCP?.site(for: IPv4Address("192.0.2.9")!).httpPort == 80)
    }

    /// `--https` with its certificate and key: TLS listeners beside (or instead of) the plain
    /// ones; `--proxy-https` hands out their URLs.
    @Test func httpsFlags() throws {
        let daemon = try configuration([
            "--https", "0.0.0.0:8443", "--tls-cert", "/etc/tftpd/server.pem", "--tls-key", "/etc/tftpd/server.key",
            "--proxy-dhcp", "eth0", "--boot-file", "efi-x64-http=ipxe.efi", "--proxy-https", "--http", "0.0.0.0:8080",
        ])
        let http = try #require(daemon.http)
        #expect(http.listen == [ListenAddress(host: "0.0.0.0", port: 8080)])
        #expect(http.secureListen == [ListenAddress(host: "0.0.0.0", port: 8443)])
        #expect(daemon.tls?.certificate == "/etc/tftpd/server.pem" && daemon.tls?.key == "/etc/tftpd/server.key")
        #expect(daemon.bindings.map(\.flag) == ["--listen", "--http", "--https"])
        let site = try #require(daemon.proxyDHCP?.site(for: IPv4Address("192.0.2.1")!))
        #expect(site.url(path: "ipxe.efi") == "https://192.0.2.1:8443/ipxe.efi")
        #expect(site.httpPort == nil)
        // HTTPS alone is an HTTP listener too.
        let alone = try configuration(["--https", "[::]:443", "--tls-cert", "c", "--tls-key", "k"])
        #expect(alone.http?.listen == [] && alone.http?.secureListen == [ListenAddress(host: "::", port: 443)])
        #expect(ProxySite(address: IPv4Address("192.0.2.1")!, httpsPort: 443).url(path: "/a") == "https://192.0.2.1/a")
    }

    @Test func nameRulesReachTFTPAndHTTP() throws {
        let daemon = try configuration(["--case-insensitive", "--per-client-dir", "mac", "--http", ":8080"])
        let expected = NameResolver(caseInsensitive: true, clientDirectory: .mac)
        #expect(daemon.server.nameResolver == expected)
        #expect(daemon.http?.nameResolver == expected)
        #expect(try configuration([]).server.nameResolver.isPlain)
    }

    @Test(arguments: [
        (["--listen", "nowhere"], "--listen nowhere"),
        (["--threads", "0"], "--threads"),
        (["--port-range", "9:1"], "--port-range 9:1"),
        (["--port-range", "1:9", "--single-port"], "exclude each other"),
        (["--max-blksize", "7"], "--max-blksize"),
        (["--max-windowsize", "0"], "--max-windowsize"),
        (["--retries", "-1"], "--retries"),
        (["--map", "=x"], "--map =x"),
        (["--http", "[::1]"], "--http [::1]"),
        (["--http-max-header-bytes", "10"], "--http-max-header-bytes"),
        (["--log-format", "xml"], "--log-format"),
        (["--log-level", "loud"], "unknown log level"),
        (["--status", "x"], "--status x"),
        (["--metrics", "x"], "--metrics x"),
        (["--per-client-dir", "hostname"], "--per-client-dir hostname: expected ip or mac"),
        (["--map-file", "/nonexistent/remap"], "--map-file /nonexistent/remap: cannot be read"),
        (["--proxy-dhcp", "eth0"], "--proxy-dhcp needs at least one --boot-file"),
        (["--boot-file", "bios=undionly.kpxe"], "need --proxy-dhcp IFACE"),
        (["--ipxe-script", "boot.ipxe"], "need --proxy-dhcp IFACE"),
        (["--proxy-dhcp", "eth0", "--boot-file", "amiga=x"], "--boot-file amiga=x: expected ARCH=FILE"),
        (["--proxy-dhcp", "eth0", "--boot-file", "bios="], "--boot-file bios=: expected ARCH=FILE"),
        (["--https", "0.0.0.0:443"], "--https needs --tls-cert FILE and --tls-key FILE"),
        (["--https", "0.0.0.0:443", "--tls-cert", "c"], "--https needs --tls-cert FILE and --tls-key FILE"),
        (["--tls-cert", "c", "--tls-key", "k"], "--tls-cert and --tls-key need --https"),
        (["--https", "nowhere", "--tls-cert", "c", "--tls-key", "k"], "--https nowhere: expected ADDR:PORT"),
        (["--proxy-https"], "need --proxy-dhcp IFACE"),
        (["--origin", "ftp://origin"], "--origin ftp://origin: expected an http:// or https:// URL"),
        (["--origin", "http://origin"], "--origin needs --cache DIR"),
        (["--origin-manifest", "SHA256SUMS"], "--origin-manifest needs --origin"),
        (["--cache-size", "lots"], "--cache-size lots: expected a number of bytes"),
        (["--origin-ttl", "1y"], "--origin-ttl 1y: expected a duration"),
        (["--origin", "http://o", "--cache", "/c", "--origin-manifest", "../SUMS"], "--origin-manifest ../SUMS"),
    ])
    func refusedFlagsNameThemselves(_ flags: [String], _ message: String) {
        do {
            _ = try TFTPDaemon.parse(["--root", "/srv/tftp"] + flags)
            Issue.record("accepted \(flags)")
        } catch {
            #expect(TFTPDaemon.message(for: error).contains(message))
            #expect(TFTPDaemon.exitCode(for: error).rawValue == DaemonExit.usage.rawValue)
        }
    }

    /// `--origin` and its cache: the sizes and durations as an operator writes them, and what
    /// the origin's access log will see of this server.
    @Test func theOriginAndItsCache() throws {
        let command = try TFTPDaemon.parse([
            "--root", "/srv/tftp", "--listen", "192.0.2.7:69", "--origin", "https://boot.example/releases/",
            "--origin-ca", "/etc/tftpd/ca.pem", "--cache", "/var/cache/tftpd", "--cache-size", "20G",
            "--origin-ttl", "5m", "--origin-manifest", "SHA256SUMS",
        ])
        let daemon = DaemonConfiguration(
            content: command.content, listen: command.listen, transfer: command.transfer, http: command.http,
            proxy: command.proxy, operator: command.operations, origin: command.origin, inheritedSockets: [],
            coreCount: 2)
        let origin = try #require(daemon.origin)
        #expect(origin.url == "https://boot.example/releases")
        #expect(origin.cacheDirectory == "/var/cache/tftpd")
        #expect(origin.cacheSize == 20 << 30)
        #expect(origin.freshness == .seconds(300))
        #expect(origin.manifest == "SHA256SUMS")
        #expect(origin.userAgent == "netboot-tftpd (192.0.2.7:69)")
        #expect(daemon.originCA == "/etc/tftpd/ca.pem")
        #expect(OriginOptions.bytes("500M") == 500 << 20)
        #expect(OriginOptions.bytes("123") == 123)
        #expect(OriginOptions.duration("90") == .seconds(90))
        #expect(OriginOptions.duration("0") == .seconds(0))
        #expect(OriginOptions.duration("1h") == .seconds(3600))
        #expect(try configuration([]).origin == nil)
    }

    /// The help lists every exit status the daemon uses.
    @Test func helpListsEveryExitStatus() {
        for status in DaemonExit.allCases {
            #expect(DaemonExit.help.contains("\(status.rawValue)"))
        }
    }
}
