@testable import TFTPCore

/// Admission for an engine core under test: the real ``TransferTable``, without the lock and
/// the metrics of the server's registry, and a record of what came and went.
final class LocalAdmission<Client: TransferAddress>: TransferAdmission {
    var table: TransferTable<Client, Client.Host>
    /// Every place given back, in order.
    private(set) var released: [Client] = []

    init(maxTransfers: Int = 1000, maxPerClient: Int = .max) {
        table = TransferTable(maxTransfers: maxTransfers, maxPerHost: maxPerClient)
    }

    func admit(_ client: Client, as kind: AdmissionKind, thread: Int) -> TransferTable<Client, Client.Host>.Admission {
        table.admit(client, host: client.host, beside: kind != .new, thread: thread)
    }

    func release(_ client: Client) {
        released.append(client)
        _ = table.release(client, host: client.host)
    }

    /// Transfers holding a place now.
    var running: Int { table.count }
}
