import NIOCore

/// Where a client transfer's bytes go. The driver calls ``write(_:)`` for each block in
/// order and ``finish()`` once after the last one; a thrown error ends the transfer with
/// an ERROR to the server.
public protocol TransferSink: Sendable {
    mutating func write(_ bytes: ByteBuffer) throws(SinkError)
    mutating func finish() throws(SinkError)
}

/// Why received bytes could not be stored.
public struct SinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
