import NIOCore
import Testing

@testable import TFTPCore

@Suite struct ClientTransferTests {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func started(_ configuration: ClientTransfer.Configuration) -> ClientTransfer {
        var client = ClientTransfer(filename: Array("f".utf8), configuration: configuration)
        _ = client.start(now: t0)
        return client
    }

    private func oack(_ pairs: [(String, String)]) -> Packet {
        .optionAcknowledgement(pairs.map { TransferOption(name: $0.0, value: $0.1) })
    }

    @Test func requestCarriesTheOptions() {
        var client = ClientTransfer(
            filename: Array("f".utf8),
            configuration: .init(blockSize: 1468, windowSize: 16, timeoutSeconds: 3, requestSize: true)
        )
        guard case .send(.readRequest(let request), _) = client.start(now: t0) else {
            Issue.record("no RRQ")
            return
        }
        #expect(request.options.map(\.name) == ["blksize", "timeout", "tsize", "windowsize"])
    }

    /// Firmware send their options in their own order (U-Boot: timeout first; EDK2's
    /// probe: tsize first); the request keeps the order asked for.
    @Test func requestKeepsTheOptionOrderAskedFor() {
        var client = ClientTransfer(
            filename: Array("f".utf8),
            configuration: .init(
                blockSize: 1468, windowSize: 4, requestSize: true, optionOrder: ["tsize", "blksize", "windowsize"]))
        guard case .send(.readRequest(let request), _) = client.start(now: t0) else {
            Issue.record("no RRQ")
            return
        }
        #expect(request.options.map(\.name) == ["tsize", "blksize", "windowsize"])
        #expect(request.options.map(\.value) == ["0", "1468", "4"])
    }

    /// A size probe reads the OACK's tsize and ends with EDK2's ERROR 8; answered with DATA
    /// (options ignored), it ends the same way, without a size.
    @Test func sizeProbeEndsWithError8() {
        let configuration = ClientTransfer.Configuration(blockSize: 1468, requestSize: true, probe: true)
        var client = started(configuration)
        let end = client.received(oack([("blksize", "1468"), ("tsize", "6291456")]), now: t0 + .milliseconds(1))
        #expect(end == .finish(.probed(size: 6_291_456), send: ClientTransfer.probeEnd))
        #expect(ClientTransfer.probeEnd == .error(code: .optionRefused, message: "User aborted the transfer"))
        var ignored = started(configuration)
        let data = Packet.data(block: 1, payload: ByteBuffer(bytes: [1, 2, 3]))
        #expect(ignored.received(data, now: t0) == .finish(.probed(size: nil), send: ClientTransfer.probeEnd))
    }

    static let unacceptable: [[(String, String)]] = [
        [("blksize", "2048")],
        [("windowsize", "32")],
        [("timeout", "4")],
        [("foo", "1")],
        [("blksize", "1024"), ("multicast", "")],
        [("tsize", "abc")],
        [("blksize", "4")],
    ]

    /// EDK2 and PXELINUX behaviour: an OACK that adds or raises anything is refused with ERROR 8.
    @Test(arguments: unacceptable)
    func unacceptableOACK(_ pairs: [(String, String)]) {
        var client = started(.init(blockSize: 1468, windowSize: 16, timeoutSeconds: 3, requestSize: true))
        guard case .finish(.optionsRejected, .error(.optionRefused, _)?) = client.received(oack(pairs), now: t0) else {
            Issue.record("accepted \(pairs)")
            return
        }
    }

    @Test func unrequestedOptionIsRefused() {
        var client = started(.init())
        guard case .finish(.optionsRejected, _) = client.received(oack([("tsize", "5")]), now: t0) else {
            Issue.record("accepted an unrequested tsize")
            return
        }
    }

    @Test func narrowerOACKIsAcceptedAndAcknowledged() {
        var client = started(.init(blockSize: 8192, windowSize: 16, requestSize: true))
        let action = client.received(oack([("blksize", "1468"), ("windowsize", "4"), ("tsize", "10")]), now: t0)
        guard case .send(.ack(0), _) = action else {
            Issue.record("no ACK 0: \(action)")
            return
        }
        #expect(client.blockSize == 1468)
        #expect(client.windowSize == 4)
        #expect(client.announcedSize == 10)
    }

    /// DATA without an OACK: the server ignored the options; back to 512 and lockstep.
    @Test func dataWithoutOACKFallsBackToDefaults() {
        var client = started(.init(blockSize: 1468, windowSize: 8))
        let action = client.received(.data(block: 1, payload: ByteBuffer(bytes: [1, 2])), now: t0)
        guard case .deliver(_, .ack(1)?, _) = action else {
            Issue.record("expected delivery with ACK 1: \(action)")
            return
        }
        #expect(client.blockSize == 512)
        #expect(client.optionsAcknowledged == false)
    }

    @Test func oversizeDataIsAProtocolError() {
        var client = started(.init())
        let action = client.received(.data(block: 1, payload: ByteBuffer(repeating: 0, count: 513)), now: t0)
        guard case .finish(.protocolError, .error(.illegalOperation, _)?) = action else {
            Issue.record("accepted 513 bytes at blksize 512")
            return
        }
    }

    @Test func sizeOtherThanAnnouncedIsAnError() {
        var client = started(.init(requestSize: true))
        _ = client.received(oack([("tsize", "100")]), now: t0)
        guard
            case .finish(.protocolError, _) = client.received(.data(block: 1, payload: ByteBuffer(bytes: [1])), now: t0)
        else {
            Issue.record("accepted 1 byte of an announced 100")
            return
        }
    }

    @Test func duplicateBlockIsReacknowledgedInLockstep() {
        var client = started(.init())
        _ = client.received(.data(block: 1, payload: ByteBuffer(repeating: 1, count: 512)), now: t0)
        guard
            case .send(.ack(1), _) = client.received(
                .data(block: 1, payload: ByteBuffer(repeating: 1, count: 512)), now: t0)
        else {
            Issue.record("duplicate block 1 not re-acknowledged")
            return
        }
    }

    @Test func finalAckIsRepeatedWhileDallying() {
        var client = started(.init())
        _ = client.received(.data(block: 1, payload: ByteBuffer(bytes: [1])), now: t0)
        guard case .deliver(_, .ack(1)?, _) = client.received(.data(block: 1, payload: ByteBuffer(bytes: [1])), now: t0)
        else {
            Issue.record("final ACK not repeated")
            return
        }
        #expect(client.timerFired(now: t0 + .seconds(1)) == .finish(.completed(bytes: 1), send: nil))
    }

    @Test func serverErrorEndsTheTransfer() {
        var client = started(.init())
        #expect(
            client.received(.error(code: .fileNotFound, message: "nope"), now: t0)
                == .finish(.serverError(code: .fileNotFound, message: "nope"), send: nil))
    }

    /// Ctrl-C: the server is told with an ERROR, once.
    @Test func cancelTellsTheServerOnce() {
        var client = started(.init())
        #expect(
            client.cancel()
                == .finish(.cancelled, send: .error(code: .notDefined, message: "Transfer cancelled by the user")))
        #expect(client.cancel() == .wait)
        #expect(client.outcome == .cancelled)
    }

    /// Cancelled before the RRQ went out: nothing to tell.
    @Test func cancelBeforeStartSendsNothing() {
        var client = ClientTransfer(filename: Array("f".utf8))
        #expect(client.cancel() == .finish(.cancelled, send: nil))
    }

    /// A write failure ends the transfer with an ERROR so the server stops sending.
    @Test func sinkFailureEndsWithAnError() {
        var client = started(.init())
        _ = client.received(.data(block: 1, payload: ByteBuffer(repeating: 1, count: 512)), now: t0)
        let full = SinkError("disk full")
        guard case .finish(.localFailure(full), .error(.notDefined, _)?) = client.sinkFailed(full) else {
            Issue.record("no local failure")
            return
        }
        #expect(client.sinkFailed(SinkError("again")) == .wait)
    }

    /// The duration ends with the last block, not with the dally after it.
    @Test func lastBlockTimeIsRecorded() {
        var client = started(.init())
        let later = t0 + .milliseconds(30)
        _ = client.received(.data(block: 1, payload: ByteBuffer(repeating: 1, count: 10)), now: later)
        #expect(client.lastBlockReceivedAt == later)
        #expect(client.outcome == nil)
        #expect(client.timerFired(now: later + .seconds(1)) == .finish(.completed(bytes: 10), send: nil))
    }
}
