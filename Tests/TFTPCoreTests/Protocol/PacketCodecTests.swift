import NIOCore
import Testing

@testable import TFTPCore

infix operator |> : AdditionPrecedence
private func |> <T, U>(value: T, transform: (T) -> U) -> U { transform(value) }

@Suite struct PacketCodecTests {
    private func bytes(_ parts: [UInt8]...) -> ByteBuffer { ByteBuffer(bytes: parts.flatMap { $0 }) }
    private func cstr(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

    @Test(arguments: [
        Packet.readRequest(Request(filename: Array("pxelinux.0".utf8), mode: .octet)),
        .readRequest(
            Request(
                filename: Array("images/vmlinuz".utf8),
                mode: .netascii,
                options: [.init(name: "blksize", value: "1468"), .init(name: "tsize", value: "0")]
            )
        ),
        .writeRequest(Request(filename: Array("x".utf8), mode: .octet)),
        .data(block: 65535, payload: ByteBuffer(bytes: [1, 2, 3])),
        .data(block: 0, payload: ByteBuffer()),
        .ack(block: 0),
        .ack(block: 65535),
        .error(code: .fileNotFound, message: "File not found"),
        .error(code: TFTPErrorCode(rawValue: 42), message: ""),
        .optionAcknowledgement([.init(name: "windowsize", value: "16")]),
    ])
    func roundTrip(_ packet: Packet) {
        #expect(Packet.decode(packet.encoded()) == .success(packet))
    }

    @Test func wireFormatOfData() {
        let encoded = Packet.data(block: 258, payload: ByteBuffer(bytes: [0xAA])).encoded()
        #expect(Array(encoded.readableBytesView) == [0, 3, 1, 2, 0xAA])
    }

    @Test func wireFormatOfOACK() {
        let encoded = Packet.optionAcknowledgement([.init(name: "tsize", value: "5")]).encoded()
        #expect(Array(encoded.readableBytesView) == [0, 6] + cstr("tsize") + cstr("5"))
    }

    static let file = Array("file".utf8)
    static let octet = Array("octet".utf8)
    static let malformedCases: [([UInt8], PacketDecodingError)] = [
        ([], .tooShort),
        ([0], .tooShort),
        ([0, 0], .unknownOpcode(0)),
        ([0, 7], .unknownOpcode(7)),
        ([0xFF, 0xFF], .unknownOpcode(65535)),
        ([0, 3, 1], .truncatedHeader(.data)),
        ([0, 4], .truncatedHeader(.ack)),
        ([0, 5, 0], .truncatedHeader(.error)),
        ([0, 1], .unterminatedFilename),
        [0, 1] + file |> { ($0, .unterminatedFilename) },
        [0, 1, 0] + octet + [0] |> { ($0, .emptyFilename) },
        [0, 1] + file + [0] |> { ($0, .unterminatedMode) },
        [0, 1] + file + [0] + octet |> { ($0, .unterminatedMode) },
        [0, 2] + file + [0] + Array("binary".utf8) + [0] |> { ($0, .unknownMode("binary")) },
    ]

    @Test(arguments: malformedCases)
    func malformed(_ datagram: [UInt8], _ expected: PacketDecodingError) {
        #expect(Packet.decode(ByteBuffer(bytes: datagram)) == .failure(expected))
    }

    @Test func modeIsCaseInsensitive() {
        let decoded = Packet.decode(bytes([0, 1], cstr("f"), cstr("OCTET")))
        #expect(decoded == .success(.readRequest(Request(filename: [UInt8(ascii: "f")], mode: .octet))))
    }

    /// HP PA-RISC pads RRQs with garbage after the mode; an incomplete last
    /// option pair is junk and ignored.
    @Test func trailingJunkAfterOptionsIsIgnored() {
        let decoded = Packet.decode(
            bytes([0, 1], cstr("f"), cstr("octet"), cstr("blksize"), cstr("1024"), Array("garb".utf8)))
        let expected = Request(
            filename: [UInt8(ascii: "f")], mode: .octet, options: [.init(name: "blksize", value: "1024")])
        #expect(decoded == .success(.readRequest(expected)))
    }

    @Test func nulPaddingAfterModeIsIgnored() {
        let decoded = Packet.decode(bytes([0, 1], cstr("f"), cstr("octet"), [0, 0, 0, 0]))
        #expect(decoded == .success(.readRequest(Request(filename: [UInt8(ascii: "f")], mode: .octet))))
    }

    @Test func nonUTF8FilenameBytesAreKept() {
        let name: [UInt8] = [0xFF, 0xFE, UInt8(ascii: "a")]
        let decoded = Packet.decode(bytes([0, 1], name + [0], cstr("octet")))
        #expect(decoded == .success(.readRequest(Request(filename: name, mode: .octet))))
    }

    @Test func errorWithoutTerminatorTakesTheRest() {
        let decoded = Packet.decode(bytes([0, 5, 0, 8], Array("abort".utf8)))
        #expect(decoded == .success(.error(code: .optionRefused, message: "abort")))
    }

    @Test func paddedAckIsAccepted() {
        #expect(Packet.decode(bytes([0, 4, 0, 9, 0, 0])) == .success(.ack(block: 9)))
    }

    @Test func dataPayloadIsTheRestOfTheDatagram() {
        let payload = [UInt8](repeating: 7, count: 65464)
        guard case .success(.data(let block, let decoded)) = Packet.decode(bytes([0, 3, 0, 1], payload)) else {
            Issue.record("not DATA")
            return
        }
        #expect(block == 1)
        #expect(decoded.readableBytes == 65464)
    }

    /// Round trip from the wire: every byte sequence decodes to a packet or an error, and a
    /// packet that decodes encodes to bytes that decode to the same packet (what was read is
    /// exactly what would be written). 20,000 seeded datagrams, most with a valid opcode.
    @Test func decodedPacketsEncodeToThemselves() {
        var random = SeededRandom(seed: 7)
        var decoded = 0
        for _ in 0..<20000 {
            let length = Int.random(in: 0...40, using: &random)
            var datagram = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if length >= 2, random.chance(0.7) {
                datagram[0] = 0
                datagram[1] = UInt8.random(in: 0...7, using: &random)
            }
            guard case .success(let packet) = Packet.decode(ByteBuffer(bytes: datagram)) else { continue }
            decoded += 1
            #expect(Packet.decode(packet.encoded()) == .success(packet), "from \(datagram)")
        }
        #expect(decoded > 1000)
    }

    /// Round trip from the model: requests with options, OACKs, errors, DATA and ACK built
    /// at random encode and decode to themselves.
    @Test func builtPacketsSurviveTheWire() {
        var random = SeededRandom(seed: 8)
        func word() -> String {
            String(
                (0..<Int.random(in: 1...12, using: &random)).map { _ in "abcXYZ019._-/é".randomElement(using: &random)!
                })
        }
        for _ in 0..<5000 {
            let options = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                TransferOption(name: word(), value: word())
            }
            let packet: Packet =
                switch Int.random(in: 0...5, using: &random) {
                case 0: .readRequest(Request(filename: Array(word().utf8), mode: .octet, options: options))
                case 1: .writeRequest(Request(filename: Array(word().utf8), mode: .netascii, options: options))
                case 2: .optionAcknowledgement(options)
                case 3: .error(code: .fileNotFound, message: word())
                case 4: .ack(block: UInt16.random(in: 0...UInt16.max, using: &random))
                default:
                    .data(
                        block: UInt16.random(in: 0...UInt16.max, using: &random),
                        payload: ByteBuffer(bytes: (0..<Int.random(in: 0...64, using: &random)).map { UInt8($0) }))
                }
            #expect(Packet.decode(packet.encoded()) == .success(packet))
        }
    }

    /// The engine decodes from its own memory: the same answer as the one codec for
    /// every datagram (the ACK is read in place, the rest goes through ``Packet/decode(_:)``).
    @Test func decodingFromRawMemoryAgreesWithTheCodec() {
        var random = SeededRandom(seed: 11)
        for _ in 0..<20000 {
            let length = Int.random(in: 0...24, using: &random)
            var datagram = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if length >= 2, random.chance(0.8) {
                datagram[0] = 0
                datagram[1] = UInt8.random(in: 0...7, using: &random)
            }
            let raw = datagram.withUnsafeBytes { Packet.decode($0) }
            #expect("\(raw)" == "\(Packet.decode(ByteBuffer(bytes: datagram)))")
        }
    }
}
