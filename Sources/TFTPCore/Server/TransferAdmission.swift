/// Admission as an ``EngineCore`` sees it: a request from a client is admitted, a repeat of
/// one running elsewhere, or refused; a transfer that ends or falls silent gives its place
/// back. The server's is ``TransferRegistry`` (one ``TransferTable`` behind a lock, shared by
/// the engine threads, because the limits are per server and per client address); tests use
/// a plain table.
protocol TransferAdmission<Client>: AnyObject {
    associatedtype Client: TransferAddress

    /// A request from `client`; `resuming`: a suspended transfer takes its place again (not
    /// counted as another start).
    func admit(_ client: Client, resuming: Bool) -> TransferTable<Client, Client.Host>.Admission

    /// The transfer of `client` ended or was suspended: its place is free.
    func release(_ client: Client)
}
