import ArgumentParser

/// The options `get` and `bench` share: what to ask the server for and how patient to be.
struct TransferFlags: ParsableArguments {
    @Option(help: "Ask for this block size (RFC 2348, 8-65464). Default: leave the option out (512).")
    var blksize: Int?

    @Option(help: "Ask for this window size (RFC 7440, 1-65535). Default: leave the option out (lockstep).")
    var windowsize: Int?

    @Option(help: "Retransmissions without progress before giving up (0-100).")
    var retries = 5

    func validate() throws {
        if let blksize, !(8...65464).contains(blksize) { throw ValidationError("--blksize must be 8-65464") }
        if let windowsize, !(1...65535).contains(windowsize) {
            throw ValidationError("--windowsize must be 1-65535")
        }
        if !(0...100).contains(retries) { throw ValidationError("--retries must be 0-100") }
    }
}
