import NIOCore
import Testing

@testable import TFTPCore

/// Client and server machines against each other over a simulated lossy link.
@Suite struct SimulatedTransferTests {
    private static let patient = RetransmitPolicy(initialTimeout: .milliseconds(200), maxRetries: 40)

    private func content(_ size: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    @Test(arguments: [0, 1, 511, 512, 513, 1024, 4096 + 7])
    func cleanLinkLockstep(_ size: Int) {
        var link = SimulatedLink()
        let data = content(size, seed: UInt64(size))
        let result = link.run(content: data, client: .init())
        #expect(result.client == .completed(bytes: Int64(size)))
        #expect(result.server == .completed)
        #expect(result.received == data)
        #expect(result.serverRetransmits == 0)
    }

    @Test(arguments: [(1468, 16), (512, 4), (8192, 8), (65464, 2)])
    func cleanLinkWindowed(_ blockSize: Int, _ windowSize: Int) {
        var link = SimulatedLink()
        let data = content(blockSize * 37 + 5, seed: 3)
        let client = ClientTransfer.Configuration(blockSize: blockSize, windowSize: windowSize, requestSize: true)
        let result = link.run(content: data, client: client)
        #expect(result.received == data)
        #expect(result.server == .completed)
        #expect(result.serverRetransmits == 0)
    }

    /// The bar: a thousand seeded transfers at 20% loss (both ways), with
    /// duplication and reordering, all byte-identical.
    @Test func thousandTransfersAtTwentyPercentLoss() {
        var failures: [String] = []
        let conditions = SimulatedLink.Conditions(loss: 0.2, duplication: 0.02, jitter: .milliseconds(2))
        for seed in UInt64(1)...1000 {
            var random = SeededRandom(seed: seed)
            let size = Int.random(in: 0...20_000, using: &random)
            let blockSizes = [512, 1024, 1468, 4096]
            let blockSize = blockSizes[Int.random(in: 0..<blockSizes.count, using: &random)]
            let windowSize = [1, 1, 4, 16][Int.random(in: 0..<4, using: &random)]
            let data = content(size, seed: seed &* 31)
            var link = SimulatedLink(conditions: conditions, seed: seed)
            let client = ClientTransfer.Configuration(
                blockSize: blockSize,
                windowSize: windowSize == 1 ? nil : windowSize,
                requestSize: random.chance(0.5),
                retransmit: Self.patient,
                dally: .seconds(3)
            )
            let result = link.run(
                content: data,
                client: client,
                server: .init(retransmit: RetransmitPolicy(maxRetries: 40))
            )
            if result.received != data || result.client != .completed(bytes: Int64(size)) {
                failures.append("seed \(seed): \(String(describing: result.client)) \(result.received.count)/\(size)")
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func netasciiOverALossyLink() {
        let text = Array("line one\nline two\r\nbare CR\r here\n\n\r".utf8)
        let data = Array(repeating: text, count: 200).flatMap { $0 }
        for seed in UInt64(1)...20 {
            var link = SimulatedLink(conditions: .init(loss: 0.1, jitter: .milliseconds(1)), seed: seed)
            let client = ClientTransfer.Configuration(mode: .netascii, retransmit: Self.patient)
            let result = link.run(
                content: data, mode: .netascii, client: client,
                server: .init(retransmit: RetransmitPolicy(maxRetries: 40)))
            #expect(result.received == data)
        }
    }

    /// A file past 65535 blocks crosses the wrap to block 0 on both sides.
    @Test func rolloverEndToEnd() {
        var link = SimulatedLink(conditions: .init(loss: 0.01), seed: 9)
        let data = content(65535 * 8 + 100, seed: 5)
        let client = ClientTransfer.Configuration(blockSize: 8, windowSize: 32, retransmit: Self.patient)
        let result = link.run(
            content: data, client: client, server: .init(retransmit: RetransmitPolicy(maxRetries: 40)))
        #expect(result.received == data)
    }

    /// Lost packets cost the adaptive timeout (≥ 50 ms), not a fixed second.
    @Test func lossRecoveryUsesTheAdaptiveTimeout() {
        var link = SimulatedLink(conditions: .init(loss: 0.05), seed: 11)
        let data = content(512 * 400, seed: 1)
        let result = link.run(content: data, client: .init(retransmit: Self.patient))
        #expect(result.received == data)
        // 400 round trips of 1 ms plus about 40 losses at ~50-200 ms: far below 40 × 1 s.
        #expect(result.elapsed < .seconds(20))
    }

    /// RFC 1350 §4 on a lossy link: a stranger copies one datagram in ten to either side's
    /// port; each copy gets ERROR 5 (a copied ERROR gets nothing) and no transfer is
    /// disturbed.
    @Test func strangersNeverDisturbATransfer() {
        var failures: [String] = []
        var replies = 0
        for seed in UInt64(1)...200 {
            var random = SeededRandom(seed: seed)
            let size = Int.random(in: 0...20_000, using: &random)
            let data = content(size, seed: seed)
            var link = SimulatedLink(
                conditions: .init(loss: 0.1, duplication: 0.02, jitter: .milliseconds(1), strangers: 0.1), seed: seed)
            let client = ClientTransfer.Configuration(
                blockSize: 1024, windowSize: seed % 2 == 0 ? 8 : nil, retransmit: Self.patient, dally: .seconds(3))
            let result = link.run(
                content: data, client: client, server: .init(retransmit: RetransmitPolicy(maxRetries: 40)))
            if result.received != data || result.client != .completed(bytes: Int64(size)) {
                failures.append("seed \(seed): \(String(describing: result.client))")
            }
            replies += result.strangerReplies.count
            #expect(
                result.strangerReplies.allSatisfy {
                    $0 == .error(code: .unknownTransferID, message: "Unknown transfer ID")
                })
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(replies > 100)
    }

    /// A graceful shutdown that leaves enough time: the transfer completes.
    @Test func shutdownWithinTheGracePeriodCompletes() {
        var link = SimulatedLink(
            conditions: .init(loss: 0.05, shutdown: (at: .milliseconds(5), grace: .seconds(60))), seed: 3)
        let data = content(512 * 300, seed: 2)
        let result = link.run(content: data, client: .init(retransmit: Self.patient))
        #expect(result.received == data)
        #expect(result.server == .completed)
    }

    /// Past the grace period the server ends the transfer and tells the client, which
    /// stops at once instead of waiting out its timers.
    @Test func shutdownPastTheGracePeriodTellsTheClient() {
        var link = SimulatedLink(
            conditions: .init(shutdown: (at: .milliseconds(5), grace: .milliseconds(50))), seed: 4)
        let data = content(512 * 10_000, seed: 2)
        let result = link.run(content: data, client: .init(retransmit: Self.patient))
        #expect(result.server == .aborted)
        #expect(result.client == .serverError(code: .notDefined, message: "Server shutting down"))
        #expect(result.elapsed < .milliseconds(60))
    }
}
