import Foundation
import Testing

@testable import TFTPCore

/// What the server learns of each machine, and its timeline.
@Suite struct MachineRegistryTests {
    private static let mac = MACAddress("52:54:00:00:04:01")!
    private static let address = IPv4Address("192.0.2.41")!

    private static let clock = Clock()

    /// A clock that ticks a millisecond each time it is read.
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var now: Int64 = 1_000
        func tick() -> Int64 {
            lock.withLock {
                now += 1
                return now
            }
        }
    }

    /// A registry that knows no neighbours, on the test's clock.
    private func registry(neighbour: @escaping @Sendable (IPv4Address) -> MACAddress? = { _ in nil }) -> MachineRegistry
    {
        MachineRegistry(neighbour: neighbour, clock: { Self.clock.tick() })
    }

    private func event(_ kind: MachineEvent.Kind, _ subject: String, expected: Bool = false) -> MachineEvent {
        MachineEvent(
            at: Self.clock.tick(), kind: kind, subject: subject, result: "ok",
            verdict: expected ? .expected : .succeeded)
    }

    /// The proxy learns the machine; its TFTP and HTTP requests from its address join its
    /// timeline in order, and later requests find what the proxy learned.
    @Test func oneTimelinePerMachine() throws {
        let registry = registry()
        registry.learned(
            MachineIdentity(mac: Self.mac, architecture: .efiX64, address: Self.address, hostname: "n41"),
            profile: "workers", event: event(.dhcp, "ack"))
        registry.record(event(.tftp, "ipxe.efi", expected: true), address: Self.address)
        registry.record(event(.http, "GET /boot.ipxe"), address: Self.address)
        let machine = try #require(registry.machines.first)
        #expect(machine.profile == "workers")
        #expect(machine.events.map(\.kind) == [.dhcp, .tftp, .http])
        #expect(machine.events[1].verdict == .expected)
        let identity = registry.identity(address: Self.address)
        #expect(identity.mac == Self.mac && identity.architecture == .efiX64 && identity.hostname == "n41")
    }

    /// Requests from an address nobody has named yet wait, and join the machine's timeline,
    /// in time order, once the proxy learns its address.
    @Test func eventsOfAnUnknownAddressJoinItsMachineLater() throws {
        let registry = registry()
        registry.record(event(.tftp, "pxelinux.0"), address: Self.address)
        #expect(registry.machines.isEmpty)
        #expect(registry.unknownAddresses.first?.events.count == 1)
        registry.learned(
            MachineIdentity(mac: Self.mac, address: Self.address), profile: nil, event: event(.dhcp, "ack"))
        #expect(try #require(registry.machines.first).events.map(\.kind) == [.tftp, .dhcp])
        #expect(registry.unknownAddresses.isEmpty)
    }

    /// The kernel's neighbour table names the hardware address of a machine the proxy never
    /// saw (a network whose DHCP server does the booting).
    @Test func theNeighbourTableNamesTheMachine() throws {
        let table = FileManager.default.temporaryDirectory.appendingPathComponent("arp-\(UUID().uuidString)").path
        try """
        IP address       HW type     Flags       HW address            Mask     Device
        192.0.2.41       0x1         0x2         52:54:00:00:04:01     *        br0
        """.write(toFile: table, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: table) }
        let neighbours = NeighbourTable(path: table)
        let registry = registry { neighbours.mac(of: "\($0)") }
        #expect(registry.identity(address: Self.address).mac == Self.mac)
        registry.record(event(.http, "GET /x"), address: Self.address)
        #expect(registry.machines.first?.identity.mac == Self.mac)
    }

    @Test func theBookIsBounded() {
        let registry = registry()
        for index in 0..<(MachineRegistry.machineLimit + 10) {
            let mac = MACAddress(bytes: [0x52, 0x54, 0, 0, UInt8(index >> 8), UInt8(index & 0xff)])!
            registry.learned(MachineIdentity(mac: mac), profile: nil, event: event(.dhcp, "offer"))
        }
        #expect(registry.machines.count == MachineRegistry.machineLimit)
        let busy = MACAddress(bytes: [0x52, 0x54, 0, 0, 0xff, 0xff])!
        for _ in 0..<(MachineRegistry.eventLimit + 5) {
            registry.learned(MachineIdentity(mac: busy), profile: nil, event: event(.dhcp, "offer"))
        }
        #expect(registry.machines.first?.events.count == MachineRegistry.eventLimit)
    }
}
