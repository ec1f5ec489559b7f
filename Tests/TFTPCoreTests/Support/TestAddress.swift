@testable import TFTPCore

/// An address for the pure endpoints' tests: a host name and a port.
struct TestAddress: TransferAddress, CustomStringConvertible {
    var host: String
    var port: Int
    var isNativeIPv6 = false

    init(_ host: String, _ port: Int, ipv6: Bool = false) {
        self.host = host
        self.port = port
        self.isNativeIPv6 = ipv6
    }

    var description: String { "\(host):\(port)" }
}
