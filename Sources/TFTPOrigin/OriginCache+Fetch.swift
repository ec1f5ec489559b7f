import AsyncHTTPClient
import Crypto
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import TFTPCore

/// A download or revalidation, and what it leaves: a new copy landed and verified, the copy
/// held confirmed (304), a name the origin does not have, or — when the origin does not
/// answer — the copy held served stale, or a clear refusal.
extension OriginCache {
    /// How long the origin is left alone after it did not answer (cached copies are served
    /// as they are meanwhile, missing names refused at once).
    static let retryInterval = TimeAmount.seconds(5)

    func run(_ job: Job) async {
        var manifest: OriginManifest?
        if let manifestName = configuration.manifest, job.name != manifestName {
            switch await currentManifest() {
            case .success(let parsed):
                manifest = parsed
            case .failure(let problem):
                return end(job, .failedVerification("the manifest \(manifestName) is unavailable: \(problem.reason)"))
            }
        }
        var request = HTTPClientRequest(url: configuration.url(of: Array(job.name.utf8)))
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let cached = job.cached {
            if let etag = cached.etag { request.headers.add(name: "If-None-Match", value: etag) }
            if let modified = cached.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + .hours(4))
        } catch {
            return unanswered(job, reason: "\(error)")
        }
        switch response.status.code {
        case 200:
            answered()
            await download(job, response: response, manifest: manifest)
        case 304 where job.cached != nil:
            answered()
            metrics.request(.notModified)
            confirm(job, manifest: manifest)
        case 404, 410:
            answered()
            metrics.request(.notFound)
            forget(job.name, absentFor: configuration.absenceFreshness)
            end(job, .notFound)
        case 500...:
            unanswered(job, reason: "HTTP \(response.status.code)")
        default:
            // The origin answers, but not with this file (403, 401, a 304 without a copy):
            // it is not down, and a copy held keeps serving.
            answered()
            refused(job, reason: "HTTP \(response.status.code)")
        }
    }

    /// The origin answered with an error for this file alone: the copy held, if any, is
    /// served as it is; otherwise the request is refused with the reason.
    private func refused(_ job: Job, reason: String) {
        metrics.request(.failed)
        if job.cached != nil, let path = try? RequestPath(Array(job.name.utf8)), let file = try? files.open(path) {
            logger.warning(
                "origin: refused the file; serving the cached copy",
                metadata: ["file": "\(job.name)", "error": "\(reason)"])
            return end(job, with: file)
        }
        logger.error("origin: refused the file", metadata: ["file": "\(job.name)", "error": "\(reason)"])
        end(job, .originUnavailable(reason))
    }

    /// The origin says the copy held is still its file.
    private func confirm(_ job: Job, manifest: OriginManifest?) {
        guard var entry = job.cached else { return end(job, .originUnavailable("304 without a copy")) }
        if configuration.manifest != nil, job.name != configuration.manifest,
            manifest?.digest(of: job.name) != entry.sha256
        {
            metrics.request(.failedVerification)
            logger.error(
                "origin: the manifest does not vouch for the cached copy, which the origin says is current",
                metadata: ["file": "\(job.name)", "sha256": "\(entry.sha256)"])
            return end(job, .failedVerification("not the manifest's digest"))
        }
        entry.fetchedAt = TransferBoard.wallClock()
        save(entry)
        guard let path = try? RequestPath(Array(job.name.utf8)), let file = try? files.open(path) else {
            forget(job.name, absentFor: .zero)
            return end(job, .originUnavailable("the cached copy went away"))
        }
        state.withLockedValue { $0.entries[job.name] = entry }
        end(job, with: file)
    }

    /// A new copy: its bytes land in a part file that readers read meanwhile; once whole, it
    /// is checked (size, and the manifest's SHA-256), renamed into the cache and served.
    private func download(_ job: Job, response: HTTPClientResponse, manifest: OriginManifest?) async {
        let announced = response.headers.first(name: "content-length").flatMap { Int64($0) }
        let partName = UUID().uuidString
        let partPath = configuration.cacheDirectory + "/parts/" + partName
        let fd = open(partPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return end(job, .originUnavailable("cannot write the cache: errno \(errno)")) }
        fchmod(fd, 0o644)
        var closed = false
        defer { if !closed { close(fd) } }
        let reading: ContentFile
        do {
            reading = try parts.open(try RequestPath(Array(partName.utf8)))
        } catch {
            unlink(partPath)
            return end(job, .originUnavailable("cannot read the cache: \(error)"))
        }
        job.arriving.begin(reading: reading, size: announced)
        var hasher = SHA256()
        var total: Int64 = 0
        do {
            for try await chunk in response.body {
                try Self.write(chunk, to: fd)
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                total += Int64(chunk.readableBytes)
                job.arriving.landed(total)
            }
        } catch {
            unlink(partPath)
            metrics.request(.failed)
            record(error: "the download of \(job.name) broke off after \(total) bytes: \(error)")
            return end(job, .originUnavailable("the download broke off after \(total) bytes"))
        }
        close(fd)
        closed = true
        metrics.fetched(Int(total))
        if let announced, total != announced {
            unlink(partPath)
            metrics.request(.failed)
            return end(job, .originUnavailable("the origin sent \(total) of \(announced) bytes"))
        }
        let digest = Self.hex(hasher.finalize())
        if configuration.manifest != nil, job.name != configuration.manifest {
            let expected = manifest?.digest(of: job.name)
            guard expected == digest else {
                unlink(partPath)
                metrics.request(.failedVerification)
                let reason =
                    expected.map { "sha256 \(digest), the manifest says \($0)" } ?? "the manifest does not list it"
                logger.error(
                    "origin: refused a file that fails the manifest",
                    metadata: ["file": "\(job.name)", "reason": "\(reason)"])
                return end(job, .failedVerification(reason))
            }
        }
        let finalPath = configuration.cacheDirectory + "/files/" + job.name
        try? FileManager.default.createDirectory(
            atPath: (finalPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        guard rename(partPath, finalPath) == 0, let path = try? RequestPath(Array(job.name.utf8)),
            let file = try? files.open(path)
        else {
            unlink(partPath)
            return end(job, .originUnavailable("cannot keep the file in the cache: errno \(errno)"))
        }
        metrics.request(.fetched)
        let entry = OriginEntry(
            name: job.name, size: total, etag: response.headers.first(name: "etag"),
            lastModified: response.headers.first(name: "last-modified"), sha256: digest,
            fetchedAt: TransferBoard.wallClock())
        save(entry)
        state.withLockedValue { state in
            state.bytes += total - (state.entries[job.name]?.size ?? 0)
            state.entries[job.name] = entry
            state.used[job.name] = NIODeadline.now().uptimeNanoseconds
        }
        logger.info(
            "origin: fetched", metadata: ["file": "\(job.name)", "bytes": "\(total)", "sha256": "\(digest.prefix(16))"])
        end(job, with: file)
        evict()
    }

    /// The origin did not answer (or answered with an error): the copy held, if any, is
    /// served stale; otherwise the request is refused with the reason.
    private func unanswered(_ job: Job, reason: String) {
        metrics.request(.failed)
        record(error: reason)
        if job.cached != nil, let path = try? RequestPath(Array(job.name.utf8)), let file = try? files.open(path) {
            metrics.servedStale()
            state.withLockedValue { $0.staleServes += 1 }
            logger.warning(
                "origin: unreachable; serving the cached copy, stale",
                metadata: ["file": "\(job.name)", "error": "\(reason)"])
            return end(job, with: file)
        }
        logger.error(
            "origin: unreachable; the file is not cached", metadata: ["file": "\(job.name)", "error": "\(reason)"])
        end(job, .originUnavailable(reason))
    }

    private func record(error reason: String) {
        let now = NIODeadline.now().uptimeNanoseconds
        state.withLockedValue { state in
            state.reachable = false
            state.lastError = reason
            state.lastErrorAt = TransferBoard.wallClock()
            state.unreachableUntil = now + UInt64(Self.retryInterval.nanoseconds)
        }
    }

    /// While the origin does not answer, it is asked (its base URL, HEAD) once a second:
    /// any HTTP answer means it is back, and the wait before asking again ends at once.
    func probeWhileUnreachable() async {
        guard !state.withLockedValue({ $0.reachable }) else { return }
        var request = HTTPClientRequest(url: configuration.url + "/")
        request.method = .HEAD
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        guard let response = try? await client.execute(request, timeout: .seconds(2)) else { return }
        if response.status.code < 500 { answered() }
    }

    func answered() {
        let recovered = state.withLockedValue { state -> Bool in
            defer {
                state.reachable = true
                state.unreachableUntil = 0
            }
            return !state.reachable
        }
        if recovered { logger.notice("origin: reachable again", metadata: ["origin": "\(configuration.url)"]) }
    }

    /// The origin does not have `name` (or its copy is gone): it is forgotten, and believed
    /// absent for `absentFor`.
    private func forget(_ name: String, absentFor: TimeAmount) {
        let removed = state.withLockedValue { state -> OriginEntry? in
            if absentFor > .zero {
                state.absent[name] = NIODeadline.now().uptimeNanoseconds + UInt64(absentFor.nanoseconds)
            }
            guard let entry = state.entries.removeValue(forKey: name) else { return nil }
            state.bytes -= entry.size
            return entry
        }
        if removed != nil {
            unlink(configuration.cacheDirectory + "/files/" + name)
            try? FileManager.default.removeItem(at: indexURL(of: name))
        }
    }

    private func end(_ job: Job, with file: ContentFile) {
        state.withLockedValue { _ = $0.arriving.removeValue(forKey: job.name) }
        job.arriving.complete(file)
    }

    private func end(_ job: Job, _ error: ContentError) {
        state.withLockedValue { _ = $0.arriving.removeValue(forKey: job.name) }
        job.arriving.fail(error)
    }

    /// Least recently used files go while the cache holds more than `--cache-size` (never one
    /// arriving, nor the manifest).
    func evict() {
        let gone = state.withLockedValue { state -> [OriginEntry] in
            var gone: [OriginEntry] = []
            while state.bytes > configuration.cacheSize {
                let candidates = state.entries.values.filter {
                    state.arriving[$0.name] == nil && $0.name != configuration.manifest
                }
                guard
                    let oldest = candidates.min(by: {
                        state.used[$0.name, default: 0] < state.used[$1.name, default: 0]
                    })
                else { break }
                state.entries[oldest.name] = nil
                state.used[oldest.name] = nil
                state.bytes -= oldest.size
                state.evictions += 1
                gone.append(oldest)
            }
            return gone
        }
        for entry in gone {
            unlink(configuration.cacheDirectory + "/files/" + entry.name)
            try? FileManager.default.removeItem(at: indexURL(of: entry.name))
            metrics.evicted()
            logger.info(
                "origin: evicted from the cache", metadata: ["file": "\(entry.name)", "bytes": "\(entry.size)"])
        }
        metrics.held(state.withLockedValue { $0.bytes })
    }

    /// The manifest in use: the cached copy while fresh, else asked of the origin (a stale
    /// copy while it does not answer). Parsed once per version.
    func currentManifest() async -> Result<OriginManifest, ManifestUnavailable> {
        guard let name = configuration.manifest, let path = try? RequestPath(Array(name.utf8)) else {
            return .failure(ManifestUnavailable(reason: "no manifest"))
        }
        let file: ContentFile
        do {
            switch try lookup(path) {
            case .cached(let cached):
                file = cached
            case .arriving(let arriving):
                switch await arriving.settled() {
                case .complete(let complete): file = complete
                case .failed(let error): return .failure(ManifestUnavailable(reason: "\(error)"))
                case .waiting, .arriving: return .failure(ManifestUnavailable(reason: "not complete"))
                }
            }
        } catch {
            return .failure(ManifestUnavailable(reason: "\(error)"))
        }
        let sha = state.withLockedValue { $0.entries[name]?.sha256 }
        if let known = state.withLockedValue({ $0.manifest }), known.sha256 == sha { return .success(known.parsed) }
        var bytes = ByteBuffer()
        do {
            try file.read(into: &bytes, offset: 0, length: Int(file.size))
        } catch {
            return .failure(ManifestUnavailable(reason: "\(error)"))
        }
        let folder = name.split(separator: "/").dropLast().joined(separator: "/")
        let parsed = OriginManifest(parsing: String(buffer: bytes), directory: folder)
        state.withLockedValue { $0.manifest = (sha ?? "", parsed) }
        logger.info(
            "origin: manifest read",
            metadata: ["names": "\(parsed.digests.count)", "unreadable_lines": "\(parsed.unreadableLines)"])
        return .success(parsed)
    }

    /// Why the manifest could not be had.
    struct ManifestUnavailable: Error {
        var reason: String
    }

    /// Writes all of `chunk` to `fd`.
    static func write(_ chunk: ByteBuffer, to fd: Int32) throws {
        try chunk.withUnsafeReadableBytes { bytes in
            var written = 0
            while written < bytes.count {
                let count = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ContentError.io(errno: errno)
                }
                written += count
            }
        }
    }
}
