import NIOCore
import Testing

@testable import TFTPCore

@Suite struct ServerEndpointTests {
    private static let client = TestAddress("client", 1000)
    private static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func started(size: Int64 = 2000) -> ServerEndpoint<TestAddress> {
        var endpoint = ServerEndpoint(
            client: Self.client, transfer: ServerTransfer(request: Request(filename: [0x66], mode: .octet)))
        _ = endpoint.transfer.start(content: .success(size), now: Self.t0)
        return endpoint
    }

    /// RFC 1350 §4: a stranger (another port of the same host, or another host) gets
    /// ERROR 5 at its own address, and the transfer does not move.
    @Test(arguments: [TestAddress("client", 1001), TestAddress("other", 1000)])
    func strangerGetsError5AndNothingChanges(_ stranger: TestAddress) {
        var endpoint = started()
        let before = endpoint.transfer
        let output = endpoint.received(.success(.ack(block: 1)), from: stranger, now: Self.t0)
        #expect(output == .reply(.error(code: .unknownTransferID, message: "Unknown transfer ID"), to: stranger))
        #expect(endpoint.transfer.statistics == before.statistics)
        // The client's own ACK 1 still moves the transfer on.
        guard
            case .perform(.sendWindow(let window, _)) = endpoint.received(
                .success(.ack(block: 1)), from: Self.client, now: Self.t0)
        else {
            Issue.record("the client's ACK did not move the transfer")
            return
        }
        #expect(window.first == 2)
    }

    /// No error answers an error, and garbage is not reflected.
    @Test func strangersErrorAndGarbageGetSilence() {
        var endpoint = started()
        let stranger = TestAddress("other", 1)
        #expect(
            endpoint.received(.success(.error(code: .notDefined, message: "x")), from: stranger, now: Self.t0)
                == .ignore)
        #expect(endpoint.received(.failure(.tooShort), from: stranger, now: Self.t0) == .ignore)
    }

    /// The client's garbage is the machine's "malformed" event (ignored: the timer covers it).
    @Test func clientGarbageGoesToTheMachine() {
        var endpoint = started()
        #expect(endpoint.received(.failure(.unknownOpcode(9)), from: Self.client, now: Self.t0) == .perform(.wait))
    }
}
