import CoreMetrics
import NIOConcurrencyHelpers

/// What changed under the running server: reloads of each file read after start, by
/// ``Result``, and switches of the root's directory (docs/operations.md, "Reloading").
public final class ConfigMetrics: Sendable {
    /// How a reload ended.
    public enum Result: String, CaseIterable, Sendable {
        case ok
        /// The new version could not be used; the one in use stays.
        case failed
    }

    private let reloads = NIOLockedValueBox<[String: [Result: Counter]]>([:])
    private let rootSwitches = Counter(label: "tftpd_root_switches_total")

    public init() {}

    /// A file read after start: its reload counters exist from the start, at 0.
    func register(_ file: String) {
        reloads.withLockedValue { counters in
            guard counters[file] == nil else { return }
            var byResult: [Result: Counter] = [:]
            for result in Result.allCases {
                byResult[result] = Counter(
                    label: "tftpd_config_reloads_total", dimensions: [("file", file), ("result", result.rawValue)])
            }
            counters[file] = byResult
        }
    }

    /// A reload of `file` ended.
    func reloaded(_ file: String, _ result: Result) {
        register(file)
        reloads.withLockedValue { $0[file]?[result] }?.increment()
    }

    /// The root's path led to another directory.
    public func rootSwitched() {
        rootSwitches.increment()
    }
}
