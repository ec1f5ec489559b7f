import Testing

@testable import TFTPCore

@Suite struct TransferTableTests {
    @Test func repeatedRequestFromTheSameClientIsADuplicate() {
        var table = TransferTable<String, String>(maxTransfers: 10)
        #expect(table.admit("a:1", host: "a") == .admitted)
        #expect(table.admit("a:1", host: "a") == .duplicate(thread: 0))
        #expect(table.admit("a:2", host: "a") == .admitted)
        _ = table.release("a:1", host: "a")
        #expect(table.admit("a:1", host: "a") == .admitted)
    }

    /// A transfer beside the client's running one (its engine thread judged the request)
    /// takes a place of its own and counts against the limits; each release gives one back.
    @Test func aTransferBesideTheClientsRunningOneCountsOnItsOwn() {
        var table = TransferTable<String, String>(maxTransfers: 10, maxPerHost: 2)
        #expect(table.admit("a:1", host: "a") == .admitted)
        #expect(table.admit("a:1", host: "a", beside: true) == .admitted)
        #expect(table.admit("a:1", host: "a", beside: true) == .refused(.perClientLimit))
        #expect(table.count == 2)
        _ = table.release("a:1", host: "a")
        #expect(table.admit("a:1", host: "a") == .duplicate(thread: 0))
        _ = table.release("a:1", host: "a")
        #expect(table.count == 0)
        #expect(table.admit("a:1", host: "a") == .admitted)
    }

    /// A client's request on another thread is that of the thread that runs its transfer:
    /// the one that admitted the first, while any of the client's transfers runs.
    @Test func aDuplicateNamesTheThreadThatRunsTheClientsTransfer() {
        var table = TransferTable<String, String>(maxTransfers: 10)
        #expect(table.admit("a:1", host: "a", thread: 1) == .admitted)
        #expect(table.admit("a:1", host: "a", thread: 0) == .duplicate(thread: 1))
        #expect(table.admit("a:1", host: "a", beside: true, thread: 1) == .admitted)
        _ = table.release("a:1", host: "a")
        #expect(table.admit("a:1", host: "a", thread: 0) == .duplicate(thread: 1))
        _ = table.release("a:1", host: "a")
        #expect(table.admit("a:1", host: "a", thread: 0) == .admitted)
        #expect(table.admit("a:1", host: "a", thread: 1) == .duplicate(thread: 0))
    }

    @Test func limitIsEnforcedAndFreed() {
        var table = TransferTable<Int, Int>(maxTransfers: 2)
        #expect(table.admit(1, host: 1) == .admitted)
        #expect(table.admit(2, host: 2) == .admitted)
        #expect(table.admit(3, host: 3) == .refused(.busy))
        _ = table.release(1, host: 1)
        #expect(table.admit(3, host: 3) == .admitted)
        #expect(table.count == 2)
    }

    /// One address cannot hold more than its share, whatever ports it uses; others still get in.
    @Test func perHostLimit() {
        var table = TransferTable<String, String>(maxTransfers: 100, maxPerHost: 2)
        #expect(table.admit("a:1", host: "a") == .admitted)
        #expect(table.admit("a:2", host: "a") == .admitted)
        #expect(table.admit("a:3", host: "a") == .refused(.perClientLimit))
        #expect(table.admit("b:1", host: "b") == .admitted)
        #expect(table.count(for: "a") == 2)
        _ = table.release("a:1", host: "a")
        #expect(table.count(for: "a") == 1)
        #expect(table.admit("a:3", host: "a") == .admitted)
        // Releasing a client that is not there changes nothing.
        _ = table.release("z:9", host: "a")
        #expect(table.count(for: "a") == 2)
    }

    @Test func shutdownRefusesAndReportsDrain() {
        var table = TransferTable<Int, Int>(maxTransfers: 5)
        _ = table.admit(1, host: 1)
        #expect(table.beginShutdown() == false)
        #expect(table.admit(2, host: 2) == .refused(.shuttingDown))
        #expect(table.release(1, host: 1) == true)
        var idle = TransferTable<Int, Int>(maxTransfers: 5)
        #expect(idle.beginShutdown() == true)
    }
}
