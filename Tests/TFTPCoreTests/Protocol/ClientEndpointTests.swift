import NIOCore
import Testing

@testable import TFTPCore

@Suite struct ClientEndpointTests {
    private static let server = TestAddress("server", 69)
    private static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func requested() -> ClientEndpoint<TestAddress> {
        var endpoint = ClientEndpoint(server: Self.server, transfer: ClientTransfer(filename: [0x66]))
        _ = endpoint.transfer.start(now: Self.t0)
        return endpoint
    }

    private func data(_ block: UInt16, _ bytes: Int) -> Result<Packet, PacketDecodingError> {
        .success(.data(block: block, payload: ByteBuffer(repeating: 7, count: bytes)))
    }

    /// The first answer from the server's host fixes its transfer ID; packets then go there.
    @Test func firstAnswerFromTheServerHostLatches() {
        var endpoint = requested()
        #expect(endpoint.destination == Self.server)
        let tid = TestAddress("server", 50000)
        guard case .perform(.deliver) = endpoint.received(data(1, 512), from: tid, now: Self.t0) else {
            Issue.record("DATA 1 not delivered")
            return
        }
        #expect(endpoint.transferID == tid)
        #expect(endpoint.destination == tid)
    }

    /// Another host cannot latch; after latching, another port of the server is a stranger.
    @Test func strangersGetError5() {
        var endpoint = requested()
        let error5 = Packet.error(code: .unknownTransferID, message: "Unknown transfer ID")
        let otherHost = TestAddress("intruder", 50000)
        #expect(endpoint.received(data(1, 512), from: otherHost, now: Self.t0) == .reply(error5, to: otherHost))
        #expect(endpoint.transferID == nil)
        _ = endpoint.received(data(1, 512), from: TestAddress("server", 50000), now: Self.t0)
        let otherPort = TestAddress("server", 50001)
        #expect(endpoint.received(data(2, 512), from: otherPort, now: Self.t0) == .reply(error5, to: otherPort))
        #expect(endpoint.transfer.bytesReceived == 512)
    }

    /// Garbage does not latch and is dropped; an ERROR from a stranger gets nothing back.
    @Test func garbageAndStrangersErrorsGetSilence() {
        var endpoint = requested()
        #expect(endpoint.received(.failure(.tooShort), from: TestAddress("server", 50000), now: Self.t0) == .ignore)
        #expect(endpoint.transferID == nil)
        let stranger = TestAddress("intruder", 1)
        #expect(
            endpoint.received(.success(.error(code: .notDefined, message: "x")), from: stranger, now: Self.t0)
                == .ignore)
    }
}
