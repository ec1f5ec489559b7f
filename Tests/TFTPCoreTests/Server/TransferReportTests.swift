import NIOCore
import Testing

@testable import TFTPCore

/// The transfer's line is written straight into bytes in the `text` layout; it must be the
/// text its fields give, to the byte, whatever the transfer was.
@Suite struct TransferReportTests {
    private static func report(
        client: String, port: Int, filename: [UInt8], options: [TransferOption] = [],
        outcome: ServerTransfer.Outcome = .completed, bytes: Int64 = 1000, retransmits: Int = 0,
        nanoseconds: Int64 = 1_221_409
    ) throws -> TransferReport {
        let address = try #require(PeerAddress(try SocketAddress(ipAddress: client, port: port)))
        var negotiated = NegotiatedOptions()
        negotiated.acknowledged = options.filter { $0.name.lowercased() != "bogus" }
        var statistics = ServerTransfer.Statistics()
        statistics.bytesAcknowledged = bytes
        statistics.retransmits = retransmits
        return TransferReport(
            client: address, request: Request(filename: filename, mode: .octet, options: options), outcome: outcome,
            options: negotiated, statistics: statistics, duration: .nanoseconds(nanoseconds), socketError: nil)
    }

    static let reports: [@Sendable () throws -> TransferReport] = [
        { try report(client: "127.0.0.1", port: 44874, filename: Array("small.bin".utf8)) },
        { try report(client: "0.0.0.0", port: 1, filename: Array("a".utf8), bytes: 0, nanoseconds: 0) },
        { try report(client: "255.255.255.254", port: 65535, filename: Array("/boot/x".utf8), bytes: .max) },
        {
            try report(
                client: "192.0.2.15", port: 2070, filename: Array("pxelinux.cfg/01-52-54".utf8),
                options: [.init(name: "blksize", value: "1468"), .init(name: "tsize", value: "0")],
                outcome: .sizeProbe, retransmits: 3, nanoseconds: 15)
        },
        {
            try report(
                client: "2001:db8::7", port: 69, filename: [0x61, 0x0A, 0xC3, 0xA9, 0xFF],
                outcome: .peerError(code: .notDefined, message: "gave up"), nanoseconds: 123_456_789_012)
        },
        {
            try report(
                client: "::ffff:192.0.2.1", port: 4000, filename: Array("x".utf8),
                outcome: .refused(code: .fileNotFound, reason: "File not found"))
        },
    ]

    @Test(arguments: 0..<reports.count)
    func textFieldsAreTheFieldsText(_ index: Int) throws {
        let report = try Self.reports[index]()
        var direct: [UInt8] = []
        report.appendTextFields(to: &direct)
        var generic: [UInt8] = []
        for (key, value) in report.fields { generic.appendField(key, value) }
        #expect(String(decoding: direct, as: UTF8.self) == String(decoding: generic, as: UTF8.self))
    }
}
