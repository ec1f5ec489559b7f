/// Block numbering with rollover (docs/protocol.md, "Block numbers").
///
/// Transfers count blocks with a 64-bit absolute index starting at 1; the wire carries
/// its low 16 bits, so block 65536 goes out as 0 (iPXE, PXELINUX, U-Boot, GRUB and EDK2
/// all expect 0 after 65535, and U-Boot fails a boot on a wrap to 1).
public enum BlockNumber {
    /// The 16-bit wire number of an absolute block index.
    @inlinable
    public static func wire(_ index: UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: index)
    }

    /// The absolute index in `lower...upper` whose wire number is `wire`, if any.
    /// Unambiguous while the range spans at most 65536 indices.
    @inlinable
    public static func resolve(_ wire: UInt16, in lower: UInt64, _ upper: UInt64) -> UInt64? {
        guard upper >= lower else { return nil }
        let distance = UInt64(wire &- UInt16(truncatingIfNeeded: lower))
        let candidate = lower + distance
        return candidate <= upper ? candidate : nil
    }

    /// How many DATA blocks a file of `size` bytes takes at `blockSize`: a short (possibly
    /// empty) block always ends the transfer, so a multiple of the block size gets an
    /// extra empty block and a 0-byte file is one empty DATA 1 (RFC 1350 §6).
    @inlinable
    public static func count(size: Int64, blockSize: Int) -> UInt64 {
        UInt64(size) / UInt64(blockSize) + 1
    }
}
