/// The DHCP wire format (RFC 2131 §2, RFC 2132 §2–3). Decoding is total: every datagram
/// gives a message or a ``DHCPDecodingError``, never a trap.
extension DHCPMessage {
    /// 236 bytes of fixed fields, then the magic cookie.
    static let fixedLength = 236
    static let magicCookie: [UInt8] = [99, 130, 83, 99]
    /// Replies are padded to the 300 bytes a BOOTP message has at least (RFC 1542);
    /// some PXE ROMs drop shorter ones.
    static let minimumReplyLength = 300

    public static func decode(_ bytes: some Collection<UInt8>) throws(DHCPDecodingError) -> DHCPMessage {
        let bytes = Array(bytes)
        guard bytes.count >= fixedLength + 4 else { throw .tooShort(bytes.count) }
        guard bytes[fixedLength..<fixedLength + 4].elementsEqual(magicCookie) else { throw .noMagicCookie }
        guard let operation = Operation(rawValue: bytes[0]) else { throw .unknownOperation(bytes[0]) }
        let hardwareLength = bytes[2]
        guard hardwareLength <= 16 else { throw .hardwareAddressTooLong(hardwareLength) }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
        func text(_ range: Range<Int>) -> String {
            let field = bytes[range].prefix { $0 != 0 }
            return String(decoding: field, as: UTF8.self)
        }
        var message = DHCPMessage(
            operation: operation, transactionID: u32(4),
            clientHardwareAddress: Array(bytes[28..<28 + Int(hardwareLength)]))
        message.hardwareType = bytes[1]
        message.hops = bytes[3]
        message.seconds = u16(8)
        message.flags = u16(10)
        message.clientAddress = IPv4Address(value: u32(12))
        message.yourAddress = IPv4Address(value: u32(16))
        message.serverAddress = IPv4Address(value: u32(20))
        message.relayAddress = IPv4Address(value: u32(24))
        message.serverName = text(44..<108)
        message.bootFile = text(108..<236)
        var at = fixedLength + 4
        // Options run to END (255) or, leniently, to the end of the datagram.
        while at < bytes.count {
            let code = bytes[at]
            if code == DHCPOption.end { break }
            if code == DHCPOption.pad {
                at += 1
                continue
            }
            guard at + 1 < bytes.count, at + 2 + Int(bytes[at + 1]) <= bytes.count else {
                throw .truncatedOption(code: code)
            }
            let length = Int(bytes[at + 1])
            message.options.append(DHCPOption(code, Array(bytes[at + 2..<at + 2 + length])))
            at += 2 + length
        }
        return message
    }

    /// The datagram: fixed fields, cookie, options (a value over 255 bytes split into
    /// several of the same code, RFC 3396), END, padded to 300 bytes. `sname` and `file`
    /// longer than their fields are cut (the proxy also sends the boot file as option 67).
    public func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.minimumReplyLength)
        func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        func u32(_ value: UInt32) {
            u16(UInt16(value >> 16))
            u16(UInt16(value & 0xFFFF))
        }
        func field(_ content: [UInt8], width: Int) {
            let kept = content.prefix(width)
            bytes += kept
            bytes += repeatElement(0, count: width - kept.count)
        }
        let hardware = clientHardwareAddress.prefix(16)
        bytes += [operation.rawValue, hardwareType, UInt8(hardware.count), hops]
        u32(transactionID)
        u16(seconds)
        u16(flags)
        for address in [clientAddress, yourAddress, serverAddress, relayAddress] { u32(address.value) }
        field(Array(hardware), width: 16)
        field(Array(serverName.utf8.prefix(63)), width: 64)
        field(Array(bootFile.utf8.prefix(127)), width: 128)
        bytes += Self.magicCookie
        for option in options {
            var rest = option.value[...]
            repeat {
                let chunk = rest.prefix(255)
                bytes += [option.code, UInt8(chunk.count)] + chunk
                rest = rest.dropFirst(chunk.count)
            } while !rest.isEmpty
        }
        bytes.append(DHCPOption.end)
        if bytes.count < Self.minimumReplyLength {
            bytes += repeatElement(0, count: Self.minimumReplyLength - bytes.count)
        }
        return bytes
    }
}
