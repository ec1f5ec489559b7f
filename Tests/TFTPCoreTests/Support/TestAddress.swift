@testable import TFTPCore

/// An address for the pure endpoints' tests: a host name and a port.
struct TestAddress: TransferAddress, CustomStringConvertible {
    var host: String
    var port: Int

    init(_ host: String, _ port: Int) {
        self.host = host
        self.port = port
    }

    var description: String { "\(host):\(port)" }
}
