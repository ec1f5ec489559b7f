import NIOCore

extension Packet {
    /// Decodes one datagram (RFC 1350 §5, RFC 2347 §2).
    ///
    /// Lenient where real clients are sloppy and strict where it matters:
    /// - bytes after the last complete option pair are ignored (HP PA-RISC pads RRQs);
    /// - an ERROR message without its NUL is taken to the end of the datagram;
    /// - ACKs longer than four bytes are accepted (some PXE ROMs pad them);
    /// - a mode is matched case-insensitively ("OCTET" from old Windows clients).
    public static func decode(_ datagram: ByteBuffer) -> Result<Packet, PacketDecodingError> {
        var buffer = datagram
        guard let rawOpcode = buffer.readInteger(as: UInt16.self) else { return .failure(.tooShort) }
        guard let opcode = Opcode(rawValue: rawOpcode) else { return .failure(.unknownOpcode(rawOpcode)) }
        switch opcode {
        case .readRequest, .writeRequest:
            return decodeRequest(&buffer).map { opcode == .readRequest ? .readRequest($0) : .writeRequest($0) }
        case .data:
            guard let block = buffer.readInteger(as: UInt16.self) else { return .failure(.truncatedHeader(.data)) }
            return .success(.data(block: block, payload: buffer))
        case .ack:
            guard let block = buffer.readInteger(as: UInt16.self) else { return .failure(.truncatedHeader(.ack)) }
            return .success(.ack(block: block))
        case .error:
            guard let code = buffer.readInteger(as: UInt16.self) else { return .failure(.truncatedHeader(.error)) }
            let message = readCString(&buffer) ?? buffer.readString(length: buffer.readableBytes) ?? ""
            return .success(.error(code: TFTPErrorCode(rawValue: code), message: message))
        case .optionAcknowledgement:
            return .success(.optionAcknowledgement(decodeOptions(&buffer)))
        }
    }

    private static func decodeRequest(_ buffer: inout ByteBuffer) -> Result<Request, PacketDecodingError> {
        guard let nul = buffer.readableBytesView.firstIndex(of: 0) else { return .failure(.unterminatedFilename) }
        let length = nul - buffer.readerIndex
        guard length > 0 else { return .failure(.emptyFilename) }
        let filename = buffer.readBytes(length: length) ?? []
        buffer.moveReaderIndex(forwardBy: 1)
        guard let modeString = readCString(&buffer) else { return .failure(.unterminatedMode) }
        guard let mode = TransferMode(rawValue: modeString.lowercased()) else {
            return .failure(.unknownMode(modeString))
        }
        return .success(Request(filename: filename, mode: mode, options: decodeOptions(&buffer)))
    }

    /// Option pairs until the bytes run out; an incomplete last pair is junk and ignored.
    private static func decodeOptions(_ buffer: inout ByteBuffer) -> [TransferOption] {
        var options: [TransferOption] = []
        while buffer.readableBytes > 0 {
            guard let name = readCString(&buffer), let value = readCString(&buffer) else { break }
            if name.isEmpty { break }
            options.append(TransferOption(name: name, value: value))
        }
        return options
    }

    /// Reads bytes up to a NUL, consuming the NUL; nil (and nothing consumed) without one.
    private static func readCString(_ buffer: inout ByteBuffer) -> String? {
        guard let nul = buffer.readableBytesView.firstIndex(of: 0) else { return nil }
        let string = buffer.readString(length: nul - buffer.readerIndex) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        return string
    }

    /// Bytes before a DATA packet's payload: its opcode and block number (RFC 1350 §5).
    public static let dataHeaderSize = 4

    /// Writes the header of DATA `block` at `frame`, where its payload follows (the one
    /// writer of that header: ``encode(into:)`` and the engine's read-ahead frames use it).
    @inlinable
    public static func storeDataHeader(block: UInt16, at frame: UnsafeMutableRawPointer) {
        frame.storeBytes(of: Opcode.data.rawValue.bigEndian, as: UInt16.self)
        frame.storeBytes(of: block.bigEndian, toByteOffset: 2, as: UInt16.self)
    }

    /// Appends the wire form of this packet to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        if case .data(let block, var payload) = self {
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.dataHeaderSize) { bytes in
                Self.storeDataHeader(block: block, at: bytes.baseAddress!)
                return Self.dataHeaderSize
            }
            buffer.writeBuffer(&payload)
            return
        }
        buffer.writeInteger(opcode.rawValue)
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            buffer.writeBytes(request.filename)
            buffer.writeInteger(UInt8(0))
            buffer.writeString(request.mode.rawValue)
            buffer.writeInteger(UInt8(0))
            Self.encode(request.options, into: &buffer)
        case .data:
            break  // written above
        case .ack(let block):
            buffer.writeInteger(block)
        case .error(let code, let message):
            buffer.writeInteger(code.rawValue)
            buffer.writeString(message)
            buffer.writeInteger(UInt8(0))
        case .optionAcknowledgement(let options):
            Self.encode(options, into: &buffer)
        }
    }

    /// The wire form of this packet in a fresh buffer from `allocator`.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSizeHint)
        encode(into: &buffer)
        return buffer
    }

    private var encodedSizeHint: Int {
        switch self {
        case .data(_, let payload): Self.dataHeaderSize + payload.readableBytes
        case .ack: 4
        default: 64
        }
    }

    private static func encode(_ options: [TransferOption], into buffer: inout ByteBuffer) {
        for option in options {
            buffer.writeString(option.name)
            buffer.writeInteger(UInt8(0))
            buffer.writeString(option.value)
            buffer.writeInteger(UInt8(0))
        }
    }
}

extension Packet {
    /// Decodes a datagram in memory the caller owns (the engine's receive buffer). An ACK,
    /// the one packet a busy server receives per window, is read in place; any other
    /// datagram is copied into a buffer and decoded by ``decode(_:)``, the one codec.
    public static func decode(_ datagram: UnsafeRawBufferPointer) -> Result<Packet, PacketDecodingError> {
        if datagram.count >= 4, datagram[0] == 0, datagram[1] == UInt8(Opcode.ack.rawValue) {
            return .success(.ack(block: UInt16(datagram[2]) << 8 | UInt16(datagram[3])))
        }
        return decode(ByteBuffer(bytes: datagram))
    }
}
