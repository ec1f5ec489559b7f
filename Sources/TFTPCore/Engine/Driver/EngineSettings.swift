import Logging

/// What every engine thread reads and never changes.
struct EngineSettings: Sendable {
    var transfer: ServerTransfer.Configuration
    var filenameMap: FilenameMap
    /// What a name is served (a file through the door, or a machine's script).
    var content: BootContent
    /// Whether a request's client must be known to find its file: only then is its address
    /// made into text (``Requester``) for each request.
    var namesDependOnClient: Bool { filenameMap.dependsOnClient || content.names.dependsOnClient }
    var portRange: ClosedRange<Int>?
    var singlePort: Bool
    var logger: Logger
    var metrics: ServerMetrics
    /// Bytes of DATA packets a transfer reads ahead at once (at least one window).
    var readAheadBytes: Int
    /// Idle transfer sockets each thread keeps per listener for reuse (0: none).
    var socketPoolCapacity: Int
    /// Where finished transfers and refusals go for the status page (`--status`).
    var board: TransferBoard?
    /// `--machines`: each transfer on its machine's timeline.
    var machines: MachineService? { content.machines }
    /// Every file read goes to the reader threads, as if the page cache were always cold
    /// (`TFTPD_TEST_COLD_READS=1`: tests of that path, which a warm cache rarely takes).
    var deferEveryRead = false
    /// Suspended transfers (unproven clients, see ``ServerTransfer``) each thread keeps
    /// listening; past it the oldest ends. Each holds its socket and its file open.
    var suspendedLimit = 512
}
