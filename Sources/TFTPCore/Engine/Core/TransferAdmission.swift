/// Admission as an ``EngineCore`` sees it: a request from a client is admitted, one for the
/// engine thread that runs the client's transfer, or refused; a transfer that ends or falls
/// silent gives its place back. The server's is ``TransferRegistry`` (one ``TransferTable`` behind a lock, shared by
/// the engine threads, because the limits are per server and per client address); tests use
/// a plain table.
protocol TransferAdmission<Client>: AnyObject {
    associatedtype Client: TransferAddress

    /// A place for a transfer of `client`, asked by engine thread `thread` (``AdmissionKind``:
    /// a new request, one beside the client's running transfer, or a suspended transfer
    /// taking its place again).
    func admit(_ client: Client, as kind: AdmissionKind, thread: Int) -> TransferTable<Client, Client.Host>.Admission

    /// The transfer of `client` ended or was suspended: its place is free.
    func release(_ client: Client)
}

/// What a place in the admission table is asked for.
enum AdmissionKind: Equatable, Sendable {
    /// A request from a client address and port that has no transfer on this thread: a
    /// transfer of the same client on another thread makes it that thread's to judge.
    case new
    /// A request beside the client's running transfer on this thread (the client had
    /// acknowledged that one: docs/protocol.md, "Transfer IDs and repeated requests").
    case beside
    /// A suspended transfer takes its place again (not counted as another start).
    case resuming
}
