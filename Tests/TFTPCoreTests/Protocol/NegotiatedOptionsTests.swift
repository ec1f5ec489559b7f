import Testing

@testable import TFTPCore

@Suite struct NegotiatedOptionsTests {
    private func negotiate(
        _ pairs: [(String, String)],
        size: Int64? = 1000,
        limits: NegotiationLimits = .init()
    ) -> NegotiatedOptions {
        NegotiatedOptions.negotiate(
            pairs.map { TransferOption(name: $0.0, value: $0.1) }, fileSize: size, limits: limits)
    }

    private func oack(_ options: NegotiatedOptions) -> [String] {
        options.acknowledged.map { "\($0.name)=\($0.value)" }
    }

    @Test func noOptionsMeansNoOACK() {
        let options = negotiate([])
        #expect(options.acknowledged.isEmpty)
        #expect(options.blockSize == 512)
        #expect(options.windowSize == 1)
    }

    /// RFC 2347 §2: unknown options are ignored; only requested and accepted ones are echoed.
    @Test func unknownOptionsAreIgnored() {
        let options = negotiate([("multicast", ""), ("rollover", "0"), ("utimeout", "100")])
        #expect(options.acknowledged.isEmpty)
    }

    @Test func namesAreCaseInsensitiveAndEchoedAsSent() {
        let options = negotiate([("BLKSIZE", "1468"), ("TSize", "0")])
        #expect(oack(options) == ["BLKSIZE=1468", "TSize=1000"])
        #expect(options.blockSize == 1468)
    }

    @Test func orderFollowsTheRequest() {
        let options = negotiate([("windowsize", "4"), ("tsize", "0"), ("blksize", "1468")])
        #expect(oack(options) == ["windowsize=4", "tsize=1000", "blksize=1468"])
    }

    @Test func repeatedOptionsCountOnce() {
        #expect(oack(negotiate([("blksize", "1024"), ("blksize", "2048")])) == ["blksize=1024"])
    }

    @Test(arguments: [("8", 8), ("512", 512), ("1468", 1468), ("65464", 65464)])
    func blksizeInRangeIsGranted(_ value: String, _ expected: Int) {
        #expect(negotiate([("blksize", value)]).blockSize == expected)
    }

    /// RFC 2348: answer no more than asked; a request above the limit is clamped, not refused.
    @Test func blksizeAboveTheLimitIsClamped() {
        let options = negotiate([("blksize", "9000")], limits: NegotiationLimits(maxBlockSize: 1468))
        #expect(options.blockSize == 1468)
        #expect(oack(options) == ["blksize=1468"])
        #expect(negotiate([("blksize", "70000")]).blockSize == 65464)
    }

    @Test(arguments: ["7", "0", "-1", "abc", "", " 512", "0x200", "1e3", "99999999999999999999"])
    func invalidBlksizeIsIgnored(_ value: String) {
        let options = negotiate([("blksize", value)])
        #expect(options.acknowledged.isEmpty)
        #expect(options.blockSize == 512)
    }

    /// RFC 2349; EDK2 and U-Boot reject a different value, so it is echoed exactly.
    @Test(arguments: ["1", "5", "255"])
    func timeoutInRangeIsEchoed(_ value: String) {
        let options = negotiate([("timeout", value)])
        #expect(oack(options) == ["timeout=\(value)"])
        #expect(options.timeout == Int(value))
    }

    @Test(arguments: ["0", "256", "x", ""])
    func timeoutOutOfRangeIsLeftOut(_ value: String) {
        let options = negotiate([("timeout", value)])
        #expect(options.acknowledged.isEmpty)
        #expect(options.timeout == nil)
    }

    /// RFC 2349 §4: the exact size, 64-bit (atftpd and dnsmasq truncate 5 GiB).
    @Test func tsizeIsTheExactSizeIn64Bits() {
        let size: Int64 = 5 << 30
        let options = negotiate([("tsize", "0")], size: size)
        #expect(oack(options) == ["tsize=5368709120"])
        #expect(options.transferSizeRequested)
    }

    @Test func tsizeOfAnEmptyFileIsZero() {
        #expect(oack(negotiate([("tsize", "0")], size: 0)) == ["tsize=0"])
    }

    @Test func tsizeIsLeftOutWhenTheSizeIsUnknown() {
        let options = negotiate([("tsize", "0")], size: nil)
        #expect(options.acknowledged.isEmpty)
        #expect(options.transferSizeRequested)
    }

    @Test func windowsizeIsClampedToTheLimit() {
        #expect(negotiate([("windowsize", "16")]).windowSize == 16)
        let options = negotiate([("windowsize", "1000")], limits: NegotiationLimits(maxWindowSize: 64))
        #expect(oack(options) == ["windowsize=64"])
        #expect(options.windowSize == 64)
    }

    @Test(arguments: ["0", "65536", "-4", "four"])
    func invalidWindowsizeIsIgnored(_ value: String) {
        let options = negotiate([("windowsize", value)])
        #expect(options.acknowledged.isEmpty)
        #expect(options.windowSize == 1)
    }

    /// EDK2's probe asks `tsize=0 blksize=1468 windowsize=4`.
    @Test func edk2Probe() {
        let options = negotiate([("tsize", "0"), ("blksize", "1468"), ("windowsize", "4")], size: 123_456)
        #expect(oack(options) == ["tsize=123456", "blksize=1468", "windowsize=4"])
    }
}
