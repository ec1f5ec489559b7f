extension MachineEvent {
    /// A TFTP transfer's end on its machine's timeline: the file and the outcome; a size probe
    /// is the expected step of EDK2's and iPXE's boot, not a failure.
    init(_ report: TransferReport, at time: Int64) {
        let verdict: Verdict =
            switch report.outcome {
            case .sizeProbe: .expected
            case .completed: .succeeded
            default: .failed
            }
        self.init(
            at: time, kind: .tftp, subject: report.request.printableFilename, result: report.outcome.label.rawValue,
            verdict: verdict)
    }
}
