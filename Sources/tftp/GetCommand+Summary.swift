import ArgumentParser
import Glibc
import NIOCore
import TFTPCore
import UnixSignals

/// What `tftp get` prints when a transfer ends: the summary line, and with `--verbose` the
/// negotiated options and the details.
extension GetCommand {
    func summary(_ report: ClientReport, address: SocketAddress, target: String?) -> String {
        let seconds = Double(report.duration.nanoseconds) / 1e9
        switch report.outcome {
        case .completed(let bytes):
            let rate = seconds > 0 ? Double(bytes) / seconds : 0
            let destination = target.map { " to \($0)" } ?? ""
            return "tftp: received \(bytes) bytes\(destination) in \(ProgressMeter.format(seconds, decimals: 3)) s "
                + "(\(ProgressMeter.rate(rate))); \(negotiated(report))"
        case .probed:
            return "tftp: \(report.outcome)"
        case .serverError:
            return "tftp: \(report.outcome)"
        case .optionsRejected(let problem):
            return "tftp: the server answered with an option we did not accept (\(problem)); sent ERROR 8"
        case .protocolError(let reason):
            return "tftp: protocol error: \(reason)"
        case .timedOut:
            if report.server == nil {
                return "tftp: no answer from \(address.display) after \(transfer.retries + 1) tries"
            }
            return "tftp: the server stopped answering after \(report.bytes) bytes"
        case .localFailure(let reason):
            return "tftp: cannot write \(output ?? Self.baseName(file)): \(reason)"
        case .cancelled:
            return "tftp: interrupted; the server was told and the partial file removed"
        }
    }

    /// What the server granted, for the summary line: the options of its OACK, or that it
    /// answered without one.
    func negotiated(_ report: ClientReport) -> String {
        guard report.optionsAcknowledged else {
            return report.requested.isEmpty
                ? "no options asked: blksize=512, lockstep"
                : "the server ignored \(Self.optionText(report.requested)): blksize=512, lockstep"
        }
        var parts = ["blksize=\(report.blockSize)", "windowsize=\(report.windowSize)"]
        if let size = report.announcedSize { parts.append("tsize=\(size)") }
        if let timeout = report.requested.first(where: { $0.key == "timeout" }) {
            parts.append("timeout=\(timeout.value)")
        }
        return "granted " + parts.joined(separator: " ")
    }

    func details(_ report: ClientReport) -> String {
        var parts = ["asked: \(report.requested.isEmpty ? "no options" : Self.optionText(report.requested))"]
        parts.append("retransmits=\(report.retransmits)")
        if let server = report.server { parts.append("server=\(server.display)") }
        return "tftp: " + parts.joined(separator: " ")
    }
}
