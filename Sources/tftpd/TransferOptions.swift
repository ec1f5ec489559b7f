import ArgumentParser
import TFTPCore

/// What one transfer may negotiate and how it retransmits; how many run at once.
struct TransferOptions: ParsableArguments {
    @Option(help: "Maximum transfers running at once; further requests get an ERROR.")
    var maxTransfers = 1000

    @Option(help: "Maximum transfers at once for one client IP address (any ports); further requests get an ERROR.")
    var maxPerClient = 256

    @Option(
        help: ArgumentHelp(
            "Largest blksize granted (8-65464); larger requests are clamped. Default: what fits the MTU of the listening interface without IP fragments (1468 on Ethernet, 1468 when unknown).",
            valueName: "bytes"
        )
    )
    var maxBlksize: Int?

    @Option(help: "Largest windowsize granted (1-65535); larger requests are clamped.")
    var maxWindowsize = 64

    @Option(help: "Initial retransmit timeout in milliseconds, before the round trip is measured.")
    var timeout = 1000

    @Option(help: "Smallest retransmit timeout in milliseconds that round-trip adaptation may reach.")
    var minTimeout = 50

    @Option(help: "Retransmissions without progress before a transfer is given up.")
    var retries = 8

    @Option(
        help: ArgumentHelp(
            "Retransmissions of the first packet before the client has acknowledged anything.",
            discussion: """
                A request may carry a spoofed address; until the client acknowledges the OACK \
                or DATA 1, this bounds what the server sends to that address (plus one packet \
                per repeated request). More helps clients that never re-send their own ACK \
                (GRUB) on lossy links, at the price of a larger reflection.
                """))
    var unprovenRetries = 1

    @Option(
        help: ArgumentHelp(
            "Seconds a transfer whose client never acknowledged its first packet keeps listening for a late ACK.",
            discussion: """
                Until a client acknowledges the OACK or DATA 1, the server sends that packet and \
                one retransmission (one more per repeated request), then falls silent and gives \
                the transfer's slot back; it keeps the socket and the file this long for a \
                client that re-sends its ACK late (curl waits 72 s). 0: end at once.
                """))
    var lateAckWait = 90

    @Option(help: "Seconds running transfers may go on after SIGTERM.")
    var gracePeriod = 10

    func validate() throws {
        if let maxBlksize, !(NegotiatedOptions.minBlockSize...NegotiatedOptions.maxBlockSize).contains(maxBlksize) {
            throw ValidationError("--max-blksize must be 8...65464")
        }
        guard (1...NegotiatedOptions.maxWindowSize).contains(maxWindowsize) else {
            throw ValidationError("--max-windowsize must be 1...65535")
        }
        guard maxPerClient > 0 else { throw ValidationError("--max-per-client must be positive") }
        guard timeout > 0, minTimeout > 0, retries >= 0, maxTransfers > 0, gracePeriod >= 0, lateAckWait >= 0,
            unprovenRetries >= 0
        else {
            throw ValidationError(
                "timeouts, --max-transfers must be positive; --retries, --grace-period, --late-ack-wait, --unproven-retries not negative"
            )
        }
    }

    /// One transfer's rules.
    var transfer: ServerTransfer.Configuration {
        ServerTransfer.Configuration(
            limits: NegotiationLimits(
                maxBlockSize: maxBlksize ?? NegotiatedOptions.maxBlockSize, maxWindowSize: maxWindowsize),
            retransmit: RetransmitPolicy(
                initialTimeout: .milliseconds(Int64(timeout)),
                minimumTimeout: .milliseconds(Int64(minTimeout)),
                maximumTimeout: .milliseconds(Int64(max(4000, timeout))),
                maxRetries: retries,
                unprovenRetransmits: unprovenRetries
            ),
            suspension: .seconds(Int64(lateAckWait))
        )
    }
}
