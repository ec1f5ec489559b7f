// libFuzzer target: the DHCP codec and the proxy decision. Every input must decode to a
// message or a closed error without trapping; a decoded message must re-encode and decode
// to the same fields and options; the decision must answer or stay silent for every port,
// and an answer must never carry an address and must decode again.
import TFTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? DHCPMessage.decode(bytes) else { return 0 }
    guard let again = try? DHCPMessage.decode(message.encode()) else {
        fatalError("re-encoding \(message) did not decode")
    }
    // Long options come back split in 255-byte pieces and text fields cut at a NUL;
    // compare what the proxy reads: the joined option values.
    for code in Set(message.options.map(\.code)) where again.option(code) != message.option(code) {
        fatalError("option \(code) changed in a round trip")
    }
    guard again.transactionID == message.transactionID, again.clientHardwareAddress == message.clientHardwareAddress
    else { fatalError("fixed fields changed in a round trip") }
    let plan = ProxyBootPlan(
        bootFiles: [.bios: "undionly.kpxe", .efiX64: "ipxe.efi", .efiARM64: "http://192.0.2.9/arm.efi"],
        iPXEScript: "boot.ipxe")
    for site in [
        ProxySite(address: IPv4Address(value: 0xC000_0201), httpPort: 80),
        ProxySite(address: IPv4Address(value: 0xC000_0201), httpPort: nil),
    ] {
        for port in [ProxyPort.dhcp, .bootService] {
            guard case .success(let reply) = ProxyDecision.answer(message, on: port, plan: plan, site: site) else {
                continue
            }
            guard reply.message.yourAddress == .zero else { fatalError("the proxy offered an address") }
            guard (try? DHCPMessage.decode(reply.message.encode())) != nil else { fatalError("a reply did not decode") }
        }
    }
    return 0
}
