import Foundation
import TFTPCore
import Yams

/// Reads a machines file (`--machines`, YAML or JSON, which YAML reads too) into a
/// ``MachineBook``, strictly: an unknown key, a value of the wrong kind, a hardware address,
/// range or architecture that does not read, a template naming a value no profile gives, is
/// an error naming the file and the line, so a typo is found when the file is read, not when
/// a machine boots. The format is in docs/machines.md.
public enum MachinesFile {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var message: String
        public var description: String { "\(path):\(line): \(message)" }
    }

    public static func read(path: String) throws(Failure) -> MachineBook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(path: path, line: 0, message: "cannot be read")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) throws(Failure) -> MachineBook {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Failure(path: path, line: Self.line(of: error), message: Self.message(of: error))
        } catch {
            throw Failure(path: path, line: 0, message: "\(error)")
        }
        let reader = Reader(path: path)
        guard let root else { return MachineBook() }
        return try reader.book(root)
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: 0
        }
    }

    private static func message(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            "not YAML: \(problem)"
        default: "not YAML: \(error)"
        }
    }

    /// The walk over the composed document, with the file's name for errors.
    private struct Reader {
        var path: String

        func fail(_ node: Node?, _ message: String) -> Failure {
            Failure(path: path, line: node?.mark?.line ?? 0, message: message)
        }

        func mapping(_ node: Node, _ what: String, keys: Set<String>) throws(Failure) -> [(String, Node, Node)] {
            guard let mapping = node.mapping else { throw fail(node, "\(what) must be a mapping") }
            var seen: Set<String> = []
            var pairs: [(String, Node, Node)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw fail(key, "\(what): keys must be text") }
                guard keys.contains(name) else {
                    throw fail(key, "\(what): unknown key '\(name)' (known: \(keys.sorted().joined(separator: ", ")))")
                }
                guard seen.insert(name).inserted else { throw fail(key, "\(what): '\(name)' given twice") }
                pairs.append((name, key, value))
            }
            return pairs
        }

        func text(_ node: Node, _ what: String) throws(Failure) -> String {
            guard let scalar = node.scalar else { throw fail(node, "\(what) must be a single value") }
            return scalar.string
        }

        /// One value or a list of values.
        func texts(_ node: Node, _ what: String) throws(Failure) -> [String] {
            if let sequence = node.sequence {
                var values: [String] = []
                for item in sequence { values.append(try text(item, what)) }
                guard !values.isEmpty else { throw fail(node, "\(what) is an empty list") }
                return values
            }
            return [try text(node, what)]
        }

        func book(_ root: Node) throws(Failure) -> MachineBook {
            var book = MachineBook()
            var profilesNode: Node?
            for (key, keyNode, value) in try mapping(root, "the file", keys: ["defaults", "machines", "script-path"]) {
                switch key {
                case "defaults":
                    book.defaults = try profile(value, name: "default", selectors: false, line: keyNode.mark?.line ?? 0)
                case "machines":
                    profilesNode = value
                case "script-path":
                    let path = try text(value, "script-path")
                    guard !path.isEmpty, (try? RequestPath(Array(path.utf8))) != nil else {
                        throw fail(value, "script-path: \(path) is not a name under the root")
                    }
                    book.scriptPath = path
                default:
                    break
                }
            }
            if let profilesNode {
                guard let sequence = profilesNode.sequence else { throw fail(profilesNode, "machines must be a list") }
                var names: Set<String> = ["default"]
                for item in sequence {
                    let entry = try profile(item, name: nil, selectors: true, line: item.mark?.line ?? 0)
                    guard names.insert(entry.name).inserted else {
                        throw fail(item, "machines: the name '\(entry.name)' is used twice")
                    }
                    book.profiles.append(entry)
                }
            }
            try check(book)
            return book
        }

        func profile(_ node: Node, name: String?, selectors: Bool, line: Int) throws(Failure) -> MachineProfile {
            let what = name ?? "a machine"
            var keys: Set<String> = ["boot", "script", "ipxe", "vars"]
            if selectors { keys.formUnion(["name", "match"]) }
            var profile = MachineProfile(name: name ?? "", line: line)
            var scriptNode: Node?
            for (key, keyNode, value) in try mapping(node, what, keys: keys) {
                switch key {
                case "name":
                    profile.name = try text(value, "name")
                case "match":
                    profile.selector = try selector(value)
                case "boot":
                    for (architecture, _, file) in try mapping(
                        value, "boot", keys: Set(ClientArchitecture.allCases.map(\.rawValue)))
                    {
                        profile.bootFiles[ClientArchitecture(rawValue: architecture)!] = try text(file, "boot")
                    }
                case "script", "ipxe":
                    guard scriptNode == nil else { throw fail(keyNode, "\(what): give script or ipxe, not both") }
                    scriptNode = value
                    let content = try text(value, key)
                    profile.script = key == "script" ? .file(content) : .inline(content)
                case "vars":
                    for (variable, variableNode, variableValue) in try anyMapping(value, "vars") {
                        guard !MachineBook.builtIns.contains(variable) else {
                            throw fail(variableNode, "vars: '\(variable)' is filled in by the server")
                        }
                        profile.variables[variable] = try text(variableValue, "vars: \(variable)")
                    }
                default:
                    break
                }
            }
            if selectors, profile.name.isEmpty { throw fail(node, "a machine needs a name") }
            return profile
        }

        /// A mapping with keys of the user's choosing (`vars`).
        func anyMapping(_ node: Node, _ what: String) throws(Failure) -> [(String, Node, Node)] {
            guard let mapping = node.mapping else { throw fail(node, "\(what) must be a mapping") }
            var pairs: [(String, Node, Node)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw fail(key, "\(what): keys must be text") }
                pairs.append((name, key, value))
            }
            return pairs
        }

        func selector(_ node: Node) throws(Failure) -> MachineSelector {
            var selector = MachineSelector()
            for (key, _, value) in try mapping(node, "match", keys: ["mac", "uuid", "arch", "ip", "hostname"]) {
                let values = try texts(value, "match: \(key)")
                switch key {
                case "mac":
                    for text in values {
                        guard let mac = MACAddress(text) else { throw fail(value, "match: mac \(text) does not read") }
                        selector.macs.append(mac)
                    }
                case "uuid":
                    selector.uuids = values.map { $0.lowercased() }
                case "arch":
                    for text in values {
                        guard let architecture = ClientArchitecture(rawValue: text) else {
                            throw fail(
                                value,
                                "match: arch \(text) is none of \(ClientArchitecture.allCases.map(\.rawValue).joined(separator: ", "))"
                            )
                        }
                        selector.architectures.append(architecture)
                    }
                case "ip":
                    for text in values {
                        guard let range = IPv4Range(text) else {
                            throw fail(value, "match: ip \(text) is not an IPv4 address or range (192.0.2.0/24)")
                        }
                        selector.ranges.append(range)
                    }
                case "hostname":
                    selector.hostnames = values
                default:
                    break
                }
            }
            return selector
        }

        /// Every inline template reads, and names only values its profile has.
        func check(_ book: MachineBook) throws(Failure) {
            for profile in [book.defaults] + book.profiles {
                guard case .inline(let template) = profile.script ?? book.defaults.script else { continue }
                let known = MachineBook.builtIns.union(book.defaults.variables.keys).union(profile.variables.keys)
                do {
                    let names = try BootTemplate.names(in: template)
                    if let unknown = names.first(where: { !known.contains($0) }) {
                        throw Failure(
                            path: path, line: profile.line,
                            message: "\(profile.name): its script uses {{ \(unknown) }}, which no vars give")
                    }
                } catch let failure as Failure {
                    throw failure
                } catch {
                    throw Failure(path: path, line: profile.line, message: "\(profile.name): script \(error)")
                }
            }
        }
    }
}
