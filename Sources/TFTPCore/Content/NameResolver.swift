import Glibc
import Synchronization

/// Where a sanitized name is looked for, for trees laid out for other servers: each
/// client's own directory before the common root (dnsmasq's `tftp-unique-root`), and names
/// found without regard to case when the exact one is missing (dnsmasq's `tftp-lowercase`,
/// Windows-era clients). Every attempt is an ordinary ``RequestPath`` opened through
/// ``ContentRoot``, so no lookup can leave the root or skip a rule of the door.
public struct NameResolver: Sendable, Equatable {
    /// How a client's own directory is named.
    public enum ClientDirectory: String, Sendable, CaseIterable {
        /// `192.0.2.15/`, `2001:db8::15/`.
        case ip
        /// `52-54-00-12-34-56/`, from the kernel's neighbour table (IPv4 clients on a
        /// directly attached network only; otherwise the common root alone).
        case mac
    }

    public var caseInsensitive: Bool
    public var clientDirectory: ClientDirectory?
    /// Where a client's hardware address is looked up (for `mac` directories).
    public var neighbours: NeighbourTable
    /// Each directory's names by their case-folded form, as long as the directory is
    /// unchanged: a storm of clients asking the same wrong-case name reads the directory once.
    let folded = FoldedNames()

    public static func == (a: Self, b: Self) -> Bool {
        a.caseInsensitive == b.caseInsensitive && a.clientDirectory == b.clientDirectory
            && a.neighbours == b.neighbours
    }

    public init(
        caseInsensitive: Bool = false, clientDirectory: ClientDirectory? = nil,
        neighbours: NeighbourTable = NeighbourTable()
    ) {
        self.caseInsensitive = caseInsensitive
        self.clientDirectory = clientDirectory
        self.neighbours = neighbours
    }

    /// Whether every name is exactly the path it names (no client directory, no case
    /// folding): then a name can be cached by itself.
    public var isPlain: Bool { !caseInsensitive && clientDirectory == nil }

    /// Whether where a name is looked for depends on who asks (a client directory).
    public var dependsOnClient: Bool { clientDirectory != nil }

    /// The file `path` names for `client`: `DIR/path` in the client's directory if there is
    /// such a file, else `path`; each found without regard to case if asked. Only a missing
    /// file moves on to the next place; any other refusal is the answer.
    public func open(_ path: RequestPath, client: Requester, in root: ContentRoot) throws(ContentError) -> ContentFile {
        if let directory = clientDirectoryName(for: client),
            let own = try? RequestPath(directory + [UInt8(ascii: "/")] + path.relativePath)
        {
            do {
                return try find(own, in: root)
            } catch .notFound {
                // Not in the client's own directory: the common root.
            }
        }
        return try find(path, in: root)
    }

    private func find(_ path: RequestPath, in root: ContentRoot) throws(ContentError) -> ContentFile {
        do {
            return try root.open(path)
        } catch .notFound where caseInsensitive && !path.isRoot {
            return try root.open(try matchIgnoringCase(path, in: root))
        }
    }

    /// The path whose components equal `path`'s without regard to ASCII case, read
    /// directory by directory through the door. Where several names differ only in case,
    /// the exact one wins, else the smallest by bytes (so the choice never depends on the
    /// order of a directory).
    func matchIgnoringCase(_ path: RequestPath, in root: ContentRoot) throws(ContentError) -> RequestPath {
        var resolved: [[UInt8]] = []
        for component in path.components {
            let directory = try RequestPath(Array(resolved.joined(separator: [UInt8(ascii: "/")])))
            let names = try folded.names(in: directory, root: root)
            if names.exact.contains(component) {
                resolved.append(component)
                continue
            }
            guard let match = names.byFoldedName[Self.fold(component)] else { throw .notFound }
            resolved.append(match)
        }
        return try RequestPath(
            Array(resolved.joined(separator: [UInt8(ascii: "/")]))
                + (path.hasTrailingSeparator ? [UInt8(ascii: "/")] : []))
    }

    static func fold(_ name: [UInt8]) -> [UInt8] {
        name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    /// The client's directory name, nil when it has none (an unknown MAC).
    func clientDirectoryName(for client: Requester) -> [UInt8]? {
        switch clientDirectory {
        case nil: return nil
        case .ip: return client.address.isEmpty ? nil : Array(client.address.utf8)
        case .mac:
            guard !client.isIPv6, let mac = neighbours.mac(of: client.address) else { return nil }
            return Array("\(mac)".replacing(":", with: "-").utf8)
        }
    }
}
