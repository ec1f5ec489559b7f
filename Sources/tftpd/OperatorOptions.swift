import ArgumentParser
import Logging
import TFTPCore

/// What the operator sees: log lines, metrics, the status page.
struct OperatorOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log line format on stderr: text, logfmt or json.")
    var logFormat: String = "text"

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://ADDR:PORT/metrics. Off by default.", valueName: "addr:port")
    )
    var metrics: String?

    @Option(
        help: ArgumentHelp(
            "Serve a live status page at http://ADDR:PORT/ (and JSON at /api/transfers). Off by default.",
            discussion: """
                Transfers in progress, the last 500 finished ones grouped by client, failures and \
                refusals by reason, totals since start: what the log lines say, nothing more. \
                Bind it to the operator's network (e.g. 127.0.0.1:9170).
                """,
            valueName: "addr:port")
    )
    var status: String?

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
        guard LogLineFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text, logfmt or json")
        }
        if let status, ListenAddress(parsing: status) == nil {
            throw ValidationError("--status \(status): expected ADDR:PORT, e.g. 127.0.0.1:9170")
        }
        if let metrics, ListenAddress(parsing: metrics) == nil {
            throw ValidationError("--metrics \(metrics): expected ADDR:PORT, e.g. 127.0.0.1:9169")
        }
    }

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }
    var format: LogLineFormat { LogLineFormat(rawValue: logFormat) ?? .text }
    var metricsAddress: ListenAddress? { metrics.flatMap { ListenAddress(parsing: $0) } }
    var statusAddress: ListenAddress? { status.flatMap { ListenAddress(parsing: $0) } }
}
