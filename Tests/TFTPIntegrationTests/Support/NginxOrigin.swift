import Foundation
import Glibc

/// A real nginx serving a directory on 127.0.0.1 as the origin of a fleet of tftpd servers
/// (docs/fleet.md): plain HTTP, or HTTPS with a certificate and key. Its access log records
/// each request's method, path, status and User-Agent (which names the tftpd instance), so
/// a test counts what each server fetched. Readiness is nginx's own "start worker
/// processes" line on its error log (stderr), not a sleep. It can be stopped and started
/// again on the same port (an origin that goes away mid-storm). Stopped by PID at deinit.
final class NginxOrigin: @unchecked Sendable {
    static let executable = "/usr/sbin/nginx"

    /// One line of the access log.
    struct Request: Equatable {
        var method: String
        var path: String
        var status: Int
        var agent: String
    }

    let base: String
    /// What it serves.
    let documents: String
    let port: Int
    let tls: (certificate: String, key: String)?
    /// Bytes per second per response (nginx's `limit_rate`; 0: unlimited).
    let rate: Int
    private var process: Process?
    private let output = Pipe()
    private let lock = NSCondition()
    private var log = ""

    var url: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)" }

    init(tls: (certificate: String, key: String)? = nil, rate: Int = 0) throws {
        base = NSTemporaryDirectory() + "tftpd-origin-" + UUID().uuidString
        documents = base + "/www"
        try FileManager.default.createDirectory(atPath: documents, withIntermediateDirectories: true)
        chmod(base, 0o755)
        chmod(documents, 0o755)
        self.tls = tls
        self.rate = rate
        // A free TCP port: bind to 0, read it, release it for nginx.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)
        try writeConfiguration()
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: base)
    }

    private func writeConfiguration() throws {
        let listen = tls == nil ? "listen 127.0.0.1:\(port);" : "listen 127.0.0.1:\(port) ssl;"
        let certificates =
            tls.map { "ssl_certificate \($0.certificate);\n        ssl_certificate_key \($0.key);" } ?? ""
        let configuration = """
            \(geteuid() == 0 ? "user root root;" : "")
            worker_processes 1;
            error_log stderr notice;
            pid \(base)/nginx.pid;
            events { worker_connections 512; }
            http {
                log_format origin '$request_method $uri $status "$http_user_agent"';
                access_log \(base)/access.log origin;
                client_body_temp_path \(base)/body;
                proxy_temp_path \(base)/proxy;
                fastcgi_temp_path \(base)/fastcgi;
                uwsgi_temp_path \(base)/uwsgi;
                scgi_temp_path \(base)/scgi;
                types { application/octet-stream bin; }
                default_type application/octet-stream;
                sendfile on;
                server {
                    \(listen)
                    \(certificates)
                    root \(documents);
                    limit_rate \(rate);
                }
            }
            """
        try configuration.write(toFile: base + "/nginx.conf", atomically: true, encoding: .utf8)
    }

    /// Starts nginx (again) and waits for its workers.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "600", Self.executable, "-p", base, "-c", base + "/nginx.conf", "-e", "stderr", "-g", "daemon off;",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        lock.lock()
        log = ""
        lock.unlock()
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            if data.isEmpty { handle.readabilityHandler = nil }
            self.log += String(decoding: data, as: UTF8.self)
            self.lock.broadcast()
            self.lock.unlock()
        }
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        lock.lock()
        defer { lock.unlock() }
        while !log.contains("start worker process") {
            if !process.isRunning || !lock.wait(until: deadline) {
                throw TestFailure("nginx did not start:\n\(log)")
            }
        }
    }

    /// Stops nginx (SIGTERM to nginx itself, by PID: `timeout` waits with a mask that may
    /// not pass it on), and waits until it has exited and its port is closed.
    func stop() {
        guard let process, process.isRunning else { return }
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
        process.waitUntilExit()
        self.process = nil
    }

    /// Puts `bytes` at `name` beneath the documents (world-readable), the way a release is
    /// published: written beside it, then renamed over.
    func publish(_ name: String, _ bytes: [UInt8]) throws {
        let path = documents + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path + ".publishing"))
        chmod(path + ".publishing", 0o644)
        rename(path + ".publishing", path)
    }

    /// Writes `SHA256SUMS`-style `name` listing `files` with the digests given.
    func publishManifest(_ name: String, _ digests: [(file: String, sha256: String)]) throws {
        try publish(name, Array(digests.map { "\($0.sha256)  \($0.file)\n" }.joined().utf8))
    }

    /// The access log's lines so far.
    var requests: [Request] {
        let text = (try? String(contentsOfFile: base + "/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 3)
            guard parts.count == 4, let status = Int(parts[2]) else { return nil }
            return Request(
                method: String(parts[0]), path: String(parts[1]), status: status,
                agent: String(parts[3].dropFirst().dropLast()))
        }
    }
}
