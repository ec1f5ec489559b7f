import Glibc
import NIOConcurrencyHelpers

/// What the server has learned of the machines booting from it, and what each did. The
/// proxy sees a machine's hardware address, UUID, architecture and host name in its DHCP
/// requests (and its address, once it asks the boot service on port 4011); a TFTP or HTTP
/// request comes from an address, tied to a hardware address by what the proxy learned or by
/// the kernel's neighbour table. Each machine keeps its identity and its boot as one
/// timeline (DHCP → TFTP → HTTP), for the status page. Bounded: the 256 machines seen last,
/// 64 events each. Touched once per DHCP answer, transfer and HTTP request, never per packet.
public final class MachineRegistry: Sendable {
    public static let machineLimit = 256
    public static let eventLimit = 64

    /// One machine as the status page shows it.
    public struct Machine: Hashable, Sendable {
        public var identity: MachineIdentity
        /// The profile it was last given.
        public var profile: String?
        public var events: [MachineEvent]
    }

    private struct State {
        var machines: [MACAddress: Machine] = [:]
        /// Oldest first: who goes when the book is full.
        var order: [MACAddress] = []
        var macByAddress: [IPv4Address: MACAddress] = [:]
        /// Events of addresses no hardware address is known for yet.
        var unknown: [IPv4Address: [MachineEvent]] = [:]
    }

    private let state = NIOLockedValueBox(State())
    /// Where an address's hardware address is looked up when the proxy never saw it.
    private let neighbour: @Sendable (IPv4Address) -> MACAddress?
    /// Milliseconds since 1970 (UTC), for an event.
    public let clock: @Sendable () -> Int64

    /// `neighbour` and `clock` are the kernel's neighbour table and the wall clock, unless a
    /// test gives others.
    public init(
        neighbour: @escaping @Sendable (IPv4Address) -> MACAddress? = { NeighbourTable().mac(of: "\($0)") },
        clock: @escaping @Sendable () -> Int64 = MachineRegistry.wallClock
    ) {
        self.neighbour = neighbour
        self.clock = clock
    }

    /// Milliseconds since 1970 by the system's clock.
    @Sendable public static func wallClock() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// What is known of the machine at `address`, with `mac` if the request named it
    /// (iPXE's `?mac=`): the hardware address from the request, from what the proxy
    /// learned, or from the neighbour table, and whatever else was learned of it.
    public func identity(address: IPv4Address?, mac: MACAddress? = nil) -> MachineIdentity {
        var known = state.withLockedValue { state -> MachineIdentity? in
            let hardware = mac ?? address.flatMap { state.macByAddress[$0] }
            return hardware.flatMap { state.machines[$0]?.identity } ?? hardware.map { MachineIdentity(mac: $0) }
        }
        if known == nil, let address, let hardware = neighbour(address) {
            known = MachineIdentity(mac: hardware)
        }
        return MachineIdentity(mac: mac, address: address).merged(with: known ?? MachineIdentity())
    }

    /// The proxy answered a machine: remember what it said about itself, and the answer.
    public func learned(_ identity: MachineIdentity, profile: String?, event: MachineEvent) {
        guard let mac = identity.mac else { return }
        state.withLockedValue { state in
            var machine = state.machines[mac] ?? Machine(identity: identity, profile: nil, events: [])
            machine.identity = identity.merged(with: machine.identity)
            machine.profile = profile ?? machine.profile
            if let address = identity.address {
                state.macByAddress[address] = mac
                if let earlier = state.unknown.removeValue(forKey: address) {
                    // Steps seen before the machine was known join its timeline, in time order.
                    machine.events = (machine.events + earlier).sorted { $0.at < $1.at }
                }
            }
            Self.append(event, to: &machine)
            Self.store(machine, mac: mac, in: &state)
        }
    }

    /// A TFTP transfer or an HTTP request from `address` ended: the event goes to the
    /// machine there (found through the neighbour table if the proxy never saw it).
    public func record(_ event: MachineEvent, address: IPv4Address, mac: MACAddress? = nil) {
        let hardware =
            mac ?? state.withLockedValue { $0.macByAddress[address] } ?? neighbour(address)
        state.withLockedValue { state in
            guard let hardware else {
                var events = state.unknown[address] ?? []
                events.append(event)
                if events.count > Self.eventLimit { events.removeFirst(events.count - Self.eventLimit) }
                if state.unknown.count >= Self.machineLimit, state.unknown[address] == nil,
                    let any = state.unknown.keys.first
                {
                    state.unknown[any] = nil
                }
                state.unknown[address] = events
                return
            }
            state.macByAddress[address] = hardware
            var machine =
                state.machines[hardware]
                ?? Machine(identity: MachineIdentity(mac: hardware, address: address), profile: nil, events: [])
            machine.identity.address = address
            Self.append(event, to: &machine)
            Self.store(machine, mac: hardware, in: &state)
        }
    }

    /// Every machine known, the one seen last first.
    public var machines: [Machine] {
        state.withLockedValue { state in state.order.reversed().compactMap { state.machines[$0] } }
    }

    /// The last events of a machine the server knows only by address.
    public var unknownAddresses: [(address: IPv4Address, events: [MachineEvent])] {
        state.withLockedValue { state in
            state.unknown.map { ($0.key, $0.value) }.sorted { ($0.events.last?.at ?? 0) > ($1.events.last?.at ?? 0) }
        }
    }

    private static func append(_ event: MachineEvent, to machine: inout Machine) {
        machine.events.append(event)
        if machine.events.count > eventLimit { machine.events.removeFirst(machine.events.count - eventLimit) }
    }

    private static func store(_ machine: Machine, mac: MACAddress, in state: inout State) {
        if state.machines[mac] != nil { state.order.removeAll { $0 == mac } }
        state.machines[mac] = machine
        state.order.append(mac)
        while state.order.count > machineLimit {
            let old = state.order.removeFirst()
            if let address = state.machines.removeValue(forKey: old)?.identity.address,
                state.macByAddress[address] == old
            {
                state.macByAddress[address] = nil
            }
        }
    }
}
