/// Limits the server applies when it negotiates options.
public struct NegotiationLimits: Sendable, Equatable {
    /// The largest blksize granted; larger requests are clamped to it (RFC 2348 allows
    /// answering less; EDK2 and U-Boot reject more than they asked).
    public var maxBlockSize: Int
    /// The largest windowsize granted (RFC 7440 §3 allows answering less).
    public var maxWindowSize: Int

    public init(maxBlockSize: Int = 65464, maxWindowSize: Int = 64) {
        self.maxBlockSize = min(max(maxBlockSize, NegotiatedOptions.minBlockSize), NegotiatedOptions.maxBlockSize)
        self.maxWindowSize = min(max(maxWindowSize, 1), NegotiatedOptions.maxWindowSize)
    }
}
