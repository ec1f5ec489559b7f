import Foundation
import Glibc
import NIOCore
import Testing

@testable import TFTPCore

/// Content rolled out under the real binary (docs/operations.md, "Rolling out content"): a
/// root that is a symlink to a release, swapped the usual atomic way, is served by new TFTP
/// and HTTP requests while transfers that began keep the version they opened; a file
/// rewritten in place under a transfer ends it with an error rather than send two versions
/// as one file; a file renamed over the old one stays invisible to a running transfer.
@Suite struct RolloutTests {
    /// `base/releases/v1` and `v2`, each with `boot.cfg` and `big.bin` of their own, and
    /// `base/current` → `releases/v1`.
    final class Releases: @unchecked Sendable {
        let tree: ServedTree
        let base: String
        var current: String { base + "/current" }

        init() throws {
            tree = try ServedTree()
            base = tree.base
            for (index, release) in ["v1", "v2"].enumerated() {
                let folder = base + "/releases/" + release
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try write(folder + "/boot.cfg", Array("\(release): boot config\n".utf8))
                try write(folder + "/big.bin", ServedTree.randomBytes(200_000, seed: UInt64(100 + index)))
            }
            symlink("releases/v1", current)
        }

        func write(_ path: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o644)
        }

        func contents(_ release: String, _ name: String) -> [UInt8] {
            (try? Array(Data(contentsOf: URL(fileURLWithPath: base + "/releases/\(release)/" + name)))) ?? []
        }

        /// `ln -s releases/RELEASE next && mv -T next current`.
        func swap(to release: String) {
            symlink("releases/" + release, base + "/next")
            rename(base + "/next", current)
        }
    }

    private static func request(_ name: String) -> Packet {
        .readRequest(Request(filename: Array(name.utf8), mode: .octet))
    }

    /// Acknowledges the first `count` blocks of a lockstep transfer already asked for.
    private func acknowledge(_ count: UInt16, on peer: UDPPeer) throws -> (bytes: [UInt8], tid: Int) {
        var bytes: [UInt8] = []
        var tid: Int?
        var block: UInt16 = 1
        while block <= count {
            let answer = try #require(peer.receive())
            if tid == nil { tid = answer.port }
            guard answer.port == tid, case .success(.data(block, let payload)) = answer.packet else { continue }
            bytes += payload.readableBytesView
            peer.send(.ack(block: block), port: answer.port)
            block += 1
        }
        return (bytes, try #require(tid))
    }

    private func get(_ server: TFTPDProcess, _ target: String, headers: String = "") throws -> RawHTTP.Response {
        let connection = try RawHTTP(port: server.httpPort)
        connection.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\(headers)Connection: close\r\n\r\n")
        return try #require(connection.response())
    }

    /// The root swapped to another release: new requests over TFTP and HTTP get its files
    /// (the lookup of the root's path is at most 100 ms old; every answer meanwhile is one
    /// whole version), the HTTP validators follow (no ETag of the old file, no 304 for it),
    /// and the status API names the directory in use.
    @Test func aSwappedRootIsServedOverTFTPAndHTTP() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current, http: true, arguments: ["--status", "127.0.0.1:0"])
        let status = try server.port(fromLogLineContaining: "serving status page")
        let v1 = releases.contents("v1", "boot.cfg")
        let v2 = releases.contents("v2", "boot.cfg")
        #expect(UDPPeer.fetchOrFail("boot.cfg", port: server.port) == v1)
        let before = try get(server, "/boot.cfg")
        #expect(before.body == v1)
        let etag = try #require(before.header("ETag"))

        releases.swap(to: "v2")
        var answers = 0
        var tftp = v1
        while tftp != v2 && answers < 500 {
            tftp = UDPPeer.fetchOrFail("boot.cfg", port: server.port)
            #expect(tftp == v1 || tftp == v2)
            answers += 1
        }
        #expect(tftp == v2)
        let after = try get(server, "/boot.cfg")
        #expect(after.body == v2)
        #expect(after.header("ETag") != etag)
        let conditional = try get(server, "/boot.cfg", headers: "If-None-Match: \(etag)\r\n")
        #expect(conditional.status == 200)
        #expect(conditional.body == v2)
        let line = try server.waitForLog(containing: "root: new requests are served from another directory")
        #expect(line.contains("releases/v2"))
        let api = try RawHTTP(port: status)
        api.send("GET /api/transfers HTTP/1.1\r\nHost: t\r\n\r\n")
        let json = String(decoding: try #require(api.response()).body, as: UTF8.self)
        #expect(json.contains("\"resolved\":\"\(ContentRoot.resolved(releases.base + "/releases/v2"))\""))
    }

    /// SIGHUP looks the root's path up at once (an operator who swapped it says so).
    @Test func sighupLooksUpTheRootAtOnce() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current)
        #expect(UDPPeer.fetchOrFail("boot.cfg", port: server.port) == releases.contents("v1", "boot.cfg"))
        releases.swap(to: "v2")
        server.signal(SIGHUP)
        _ = try server.waitForLog(containing: "root: new requests are served from another directory")
        #expect(UDPPeer.fetchOrFail("boot.cfg", port: server.port) == releases.contents("v2", "boot.cfg"))
    }

    /// A transfer that began before the swap completes with the version it opened.
    @Test func aRunningTransferKeepsItsVersionAcrossASwap() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current)
        let peer = try UDPPeer()
        peer.send(Self.request("big.bin"), port: server.port)
        let (head, tid) = try acknowledge(20, on: peer)
        releases.swap(to: "v2")
        server.signal(SIGHUP)
        _ = try server.waitForLog(containing: "root: new requests are served from another directory")
        let rest = peer.follow(tid: tid, from: 21)
        #expect(rest.error == nil)
        #expect(identical(head + rest.bytes, releases.contents("v1", "big.bin")))
        #expect(identical(UDPPeer.fetchOrFail("big.bin", port: server.port), releases.contents("v2", "big.bin")))
    }

    /// The file rewritten in place under a transfer (same name, same inode, new bytes):
    /// the transfer ends with an ERROR before its last block, and the log says why.
    @Test func aFileRewrittenInPlaceEndsTheTransferWithAnError() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current)
        let peer = try UDPPeer()
        peer.send(Self.request("big.bin"), port: server.port)
        let (_, tid) = try acknowledge(20, on: peer)
        let path = releases.base + "/releases/v1/big.bin"
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        let patch = [UInt8](repeating: 0x55, count: 4096)
        #expect(pwrite(fd, patch, patch.count, 0) == patch.count)
        close(fd)
        let rest = peer.follow(tid: tid, from: 21)
        let error = try #require(rest.error)
        #expect(error.0 == .notDefined)
        #expect(error.1 == "File changed during transfer, try again")
        #expect(rest.bytes.count < 200_000 - 20 * 512)
        let line = try server.waitForLog(containing: "outcome=read-failed")
        #expect(line.contains("changed while it was being sent"))
    }

    /// A new file renamed over the old one (the usual way to replace a file) is another
    /// file: the running transfer completes with the one it opened; the next gets the new.
    @Test func aFileRenamedOverIsInvisibleToTheRunningTransfer() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current)
        let original = releases.contents("v1", "big.bin")
        let peer = try UDPPeer()
        peer.send(Self.request("big.bin"), port: server.port)
        let (head, tid) = try acknowledge(20, on: peer)
        let replacement = ServedTree.randomBytes(150_000, seed: 77)
        try releases.write(releases.base + "/releases/v1/big.bin.new", replacement)
        rename(releases.base + "/releases/v1/big.bin.new", releases.base + "/releases/v1/big.bin")
        let rest = peer.follow(tid: tid, from: 21)
        #expect(rest.error == nil)
        #expect(identical(head + rest.bytes, original))
        #expect(identical(UDPPeer.fetchOrFail("big.bin", port: server.port), replacement))
    }

    /// A small file is served from the engine thread's memory once it was read
    /// (docs/architecture.md, "Small files from memory"), yet every change to it is seen by
    /// the very next request: a rewrite in place, a new file renamed over it, a chmod that
    /// makes it unreadable, its deletion, a symlink put in its place that leads out of the
    /// root, and a swapped root.
    @Test func aSmallFileServedFromMemorySeesEveryChangeAtOnce() throws {
        let releases = try Releases()
        let server = try TFTPDProcess(root: releases.current)
        let path = releases.base + "/releases/v1/boot.cfg"
        func fetch() -> (bytes: [UInt8], error: TFTPErrorCode?) {
            guard let peer = try? UDPPeer() else { return ([], nil) }
            let result = peer.fetch(Array("boot.cfg".utf8), port: server.port)
            return (result.bytes, result.error?.0)
        }
        let v1 = releases.contents("v1", "boot.cfg")
        #expect(fetch().bytes == v1)
        #expect(fetch().bytes == v1)

        // Rewritten in place (another length, so even a coarse clock tells it apart).
        let rewritten = Array("v1: rewritten in place, longer\n".utf8)
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        #expect(write(fd, rewritten, rewritten.count) == rewritten.count)
        close(fd)
        #expect(fetch().bytes == rewritten)

        let renamed = Array("v1: renamed over\n".utf8)
        try releases.write(path + ".new", renamed)
        rename(path + ".new", path)
        #expect(fetch().bytes == renamed)
        #expect(fetch().bytes == renamed)

        chmod(path, 0o600)
        #expect(fetch().error == .accessViolation)
        chmod(path, 0o644)
        #expect(fetch().bytes == renamed)

        unlink(path)
        #expect(fetch().error == .fileNotFound)
        try releases.write(releases.base + "/outside.cfg", Array("outside\n".utf8))
        symlink("../../outside.cfg", path)
        #expect(fetch().error == .fileNotFound)  // outside the root reads as absent

        unlink(path)
        try releases.write(path, renamed)
        #expect(fetch().bytes == renamed)
        releases.swap(to: "v2")
        server.signal(SIGHUP)
        _ = try server.waitForLog(containing: "root: new requests are served from another directory")
        #expect(fetch().bytes == releases.contents("v2", "boot.cfg"))
    }

    /// Over HTTP: a body rewritten in place while it goes out is never completed (the
    /// connection closes short of its Content-Length, and the access line says why); one
    /// renamed over completes with the version it began with.
    @Test func anHTTPBodyRewrittenInPlaceIsCutShortAndOneRenamedOverCompletes() throws {
        let releases = try Releases()
        let large = ServedTree.randomBytes(48 << 20, seed: 5)
        let path = releases.base + "/releases/v1/large.iso"
        try releases.write(path, large)
        let server = try TFTPDProcess(root: releases.current, http: true)

        let rewritten = try RawHTTP(port: server.httpPort)
        rewritten.send("GET /large.iso HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let head = try #require(rewritten.head())
        #expect(head.header("Content-Length") == String(large.count))
        #expect(rewritten.readSome(1 << 20) >= 1 << 20)
        let fd = open(path, O_WRONLY)
        let patch = [UInt8](repeating: 0xAA, count: 4096)
        #expect(pwrite(fd, patch, patch.count, large.count - 4096) == patch.count)
        close(fd)
        let received = rewritten.readUntilClosed()
        #expect(received.count < large.count)
        let line = try server.waitForLog(containing: "target=/large.iso")
        #expect(line.contains("changed while it was being sent"))

        let renamed = try RawHTTP(port: server.httpPort)
        renamed.send("GET /large.iso HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = try #require(renamed.head())
        #expect(renamed.readSome(1 << 20) >= 1 << 20)
        let current = releases.contents("v1", "large.iso")
        try releases.write(path + ".new", ServedTree.randomBytes(1000, seed: 6))
        rename(path + ".new", path)
        let whole = renamed.readUntilClosed()
        #expect(whole.count == current.count)
        #expect(identical(whole, current))
    }
}

extension UDPPeer {
    /// A whole lockstep fetch from a fresh socket; the bytes, or nothing on an error.
    static func fetchOrFail(_ name: String, port: Int) -> [UInt8] {
        guard let peer = try? UDPPeer() else { return [] }
        let result = peer.fetch(Array(name.utf8), port: port)
        return result.error == nil ? result.bytes : []
    }
}
