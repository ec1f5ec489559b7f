import NIOCore
import Testing

@testable import TFTPCore

@Suite struct ListenerDecisionTests {
    private func decide(_ bytes: [UInt8]) -> ListenerDecision {
        ListenerDecision.decide(Packet.decode(ByteBuffer(bytes: bytes)))
    }

    @Test func readRequestStartsATransfer() {
        let request = Request(filename: Array("f".utf8), mode: .octet)
        #expect(ListenerDecision.decide(.success(.readRequest(request))) == .startTransfer(request))
    }

    /// docs/protocol.md, "Who gets an answer": a read-only server answers WRQ with ERROR 2 and writes nothing.
    @Test func writeRequestIsRefusedWithError2() {
        let decision = ListenerDecision.decide(.success(.writeRequest(Request(filename: [1], mode: .octet))))
        guard case .refuse(let refusal) = decision, case .error(.accessViolation, _) = refusal.reply else {
            Issue.record("WRQ not refused: \(decision)")
            return
        }
    }

    /// Rule 6 (CVE-2024-2169): an ERROR on the listening port is never answered; stray
    /// DATA, ACK and OACK get silence too.
    @Test(arguments: [
        Packet.error(code: .fileNotFound, message: "x"),
        .data(block: 1, payload: ByteBuffer()),
        .ack(block: 1),
        .optionAcknowledgement([]),
    ])
    func nonRequestsGetSilence(_ packet: Packet) {
        #expect(ListenerDecision.decide(.success(packet)) == .ignore)
    }

    @Test(arguments: [[0, 1], [0, 1, 0, 0], [0, 1, 65, 0], [0, 1, 65, 0, 66, 0]] as [[UInt8]])
    func malformedRequestsGetError4(_ bytes: [UInt8]) {
        guard case .refuse(let refusal) = decide(bytes), case .error(.illegalOperation, _) = refusal.reply else {
            Issue.record("\(bytes) not answered with ERROR 4")
            return
        }
    }

    @Test(arguments: [[], [0], [0, 9], [0xFF, 0xFF, 1], [0, 4]] as [[UInt8]])
    func garbageGetsSilence(_ bytes: [UInt8]) {
        #expect(decide(bytes) == .ignore)
    }
}
