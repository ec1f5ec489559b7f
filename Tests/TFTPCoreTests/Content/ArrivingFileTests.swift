import Foundation
import Glibc
import NIOConcurrencyHelpers
import Testing

@testable import TFTPCore

/// A file on its way from the origin, read as it lands: never past what has landed, never
/// its last bytes before it is whole, and a failure reaches every reader.
@Suite struct ArrivingFileTests {
    /// A part file being written, open through the door as the cache opens it.
    final class Part {
        let directory: String
        let root: ContentRoot
        let writer: Int32

        init() throws {
            var template = Array("/tmp/tftp-arriving-XXXXXX".utf8CString)
            directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
            chmod(directory, 0o755)
            writer = open(directory + "/part", O_WRONLY | O_CREAT, 0o644)
            fchmod(writer, 0o644)
            root = try ContentRoot(path: directory)
        }

        deinit {
            close(writer)
            _ = system("rm -rf '\(directory)'")
        }

        func file() throws -> ContentFile { try root.open(try RequestPath(Array("part".utf8))) }

        func append(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        }
    }

    /// Reads `count` bytes at `offset` as one frame with no gap; nil while they may not be.
    private func read(_ arriving: ArrivingFile, offset: Int64, count: Int) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: max(count, 1))
        let done = try buffer.withUnsafeMutableBytes { bytes in
            try arriving.readFrames(
                into: bytes.baseAddress!, frames: .init(gap: 0, chunk: count, count: 1, last: count), offset: offset)
        }
        return done ? Array(buffer.prefix(count)) : nil
    }

    @Test func readsWhatHasLandedAndTheEndOnlyOnceWhole() throws {
        let part = try Part()
        let arriving = ArrivingFile(name: "kernel")
        #expect(try read(arriving, offset: 0, count: 4) == nil)
        #expect(arriving.size == nil)

        arriving.begin(reading: try part.file(), size: 10)
        #expect(arriving.size == 10)
        part.append([0, 1, 2, 3, 4, 5])
        arriving.landed(6)
        #expect(try read(arriving, offset: 0, count: 4) == [0, 1, 2, 3])
        #expect(try read(arriving, offset: 4, count: 4) == nil)

        part.append([6, 7, 8, 9])
        arriving.landed(10)
        #expect(try read(arriving, offset: 4, count: 4) == [4, 5, 6, 7])
        // The last bytes wait for the proof that the file is whole.
        #expect(try read(arriving, offset: 8, count: 2) == nil)
        arriving.complete(try part.file())
        #expect(arriving.isComplete)
        #expect(try read(arriving, offset: 8, count: 2) == [8, 9])
    }

    @Test func aFailureReachesEveryReaderAndWaiter() async throws {
        let part = try Part()
        let arriving = ArrivingFile(name: "initrd")
        let told = NIOLockedValueBox(0)
        arriving.observe { told.withLockedValue { $0 += 1 } }
        arriving.begin(reading: try part.file(), size: 100)
        part.append(Array(repeating: 7, count: 50))
        arriving.landed(50)
        async let settled = arriving.settled()
        arriving.fail(.originUnavailable("the download broke off after 50 bytes"))
        guard case .failed(.originUnavailable) = await settled else {
            Issue.record("not failed")
            return
        }
        #expect(throws: ContentError.originUnavailable("the download broke off after 50 bytes")) {
            _ = try read(arriving, offset: 0, count: 10)
        }
        // Told of each change; nothing after the last.
        #expect(told.withLockedValue { $0 } == 3)
        arriving.landed(60)
        #expect(told.withLockedValue { $0 } == 3)
    }

    @Test func aForgottenObserverIsNotTold() throws {
        let arriving = ArrivingFile(name: "x")
        let told = NIOLockedValueBox(0)
        let token = arriving.observe { told.withLockedValue { $0 += 1 } }
        arriving.forget(token)
        arriving.fail(.notFound)
        #expect(told.withLockedValue { $0 } == 0)
    }
}
