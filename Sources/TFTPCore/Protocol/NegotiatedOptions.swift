/// The result of option negotiation for one read transfer (RFC 2347/2348/2349/7440).
public struct NegotiatedOptions: Equatable, Sendable {
    /// RFC 1350's block size when no blksize is negotiated.
    public static let defaultBlockSize = 512
    /// RFC 2348 §2: blksize is 8...65464.
    public static let minBlockSize = 8
    public static let maxBlockSize = 65464
    /// RFC 7440 §2: windowsize is 1...65535.
    public static let maxWindowSize = 65535
    /// RFC 2349 §2: timeout is 1...255 seconds.
    public static let timeoutRange: ClosedRange<Int> = 1...255

    /// Bytes per DATA payload.
    public var blockSize: Int = NegotiatedOptions.defaultBlockSize
    /// Blocks sent before waiting for an ACK (1 = lockstep).
    public var windowSize: Int = 1
    /// The retransmission timeout the client asked for and we echoed, in seconds.
    public var timeout: Int?
    /// Whether the client asked for tsize: an ERROR after the OACK then ends a size probe.
    public var transferSizeRequested = false
    /// What goes into the OACK, in the client's order and spelling. Empty: no OACK.
    public var acknowledged: [TransferOption] = []

    public init() {}

    /// Negotiates a read request's options, as docs/protocol.md, "Options", describes.
    ///
    /// - Unknown options and repeated ones are ignored (RFC 2347 §2); names are case-insensitive.
    /// - blksize below 8 or not a number: ignored; above the limit: clamped, never raised (RFC 2348).
    /// - timeout 1...255: echoed exactly (EDK2 and U-Boot reject another value); otherwise left out.
    /// - tsize: answered with the exact size when it is known (RFC 2349 §4); iPXE and EDK2
    ///   depend on it, so it is left out only when `fileSize` is nil.
    /// - windowsize 1...65535: clamped to the limit (RFC 7440 §3); otherwise left out.
    public static func negotiate(
        _ requested: [TransferOption],
        fileSize: Int64?,
        limits: NegotiationLimits
    ) -> NegotiatedOptions {
        var result = NegotiatedOptions()
        var seen: Set<String> = []
        for option in requested {
            let key = option.key
            guard seen.insert(key).inserted else { continue }
            let number = parseDecimal(option.value)
            switch key {
            case "blksize":
                guard let number, number >= minBlockSize else { continue }
                result.blockSize = min(number, limits.maxBlockSize)
                result.acknowledged.append(TransferOption(name: option.name, value: String(result.blockSize)))
            case "timeout":
                guard let number, timeoutRange.contains(number) else { continue }
                result.timeout = number
                result.acknowledged.append(TransferOption(name: option.name, value: String(number)))
            case "tsize":
                result.transferSizeRequested = true
                guard let fileSize else { continue }
                result.acknowledged.append(TransferOption(name: option.name, value: String(fileSize)))
            case "windowsize":
                guard let number, (1...maxWindowSize).contains(number) else { continue }
                result.windowSize = min(number, limits.maxWindowSize)
                result.acknowledged.append(TransferOption(name: option.name, value: String(result.windowSize)))
            default:
                continue
            }
        }
        return result
    }

    /// A plain unsigned decimal of at most 18 digits (RFC 2347: values are ASCII decimal).
    /// Anything else (signs, spaces, hex, empty) is not a number.
    public static func parseDecimal(_ text: String) -> Int? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 18 else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Same as ``parseDecimal(_:)`` for 64-bit sizes (tsize of files over 4 GiB).
    public static func parseSize(_ text: String) -> Int64? {
        parseDecimal(text).map(Int64.init)
    }
}
