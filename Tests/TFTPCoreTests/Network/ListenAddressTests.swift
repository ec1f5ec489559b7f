import Testing

@testable import TFTPCore

@Suite struct ListenAddressTests {
    static let valid: [(String, String, Int)] = [
        ("127.0.0.1:6969", "127.0.0.1", 6969),
        ("0.0.0.0:69", "0.0.0.0", 69),
        ("[::1]:6969", "::1", 6969),
        ("[::]:69", "::", 69),
        (":6969", "::", 6969),
        ("6969", "::", 6969),
        ("localhost:0", "localhost", 0),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ host: String, _ port: Int) {
        #expect(ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test(arguments: ["::1:69", "[::1", "[::1]69", "1.2.3.4:70000", "1.2.3.4:x", "host", ""])
    func rejects(_ text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }
}
