import Testing

@testable import TFTPCore

@Suite struct TransferTableTests {
    @Test func repeatedRequestFromTheSameClientIsADuplicate() {
        var table = TransferTable<String>(maxTransfers: 10)
        #expect(table.admit("a:1") == .admitted)
        #expect(table.admit("a:1") == .duplicate)
        #expect(table.admit("a:2") == .admitted)
        _ = table.release("a:1")
        #expect(table.admit("a:1") == .admitted)
    }

    @Test func limitIsEnforcedAndFreed() {
        var table = TransferTable<Int>(maxTransfers: 2)
        #expect(table.admit(1) == .admitted)
        #expect(table.admit(2) == .admitted)
        #expect(table.admit(3) == .full)
        _ = table.release(1)
        #expect(table.admit(3) == .admitted)
        #expect(table.count == 2)
    }

    @Test func shutdownRefusesAndReportsDrain() {
        var table = TransferTable<Int>(maxTransfers: 5)
        _ = table.admit(1)
        #expect(table.beginShutdown() == false)
        #expect(table.admit(2) == .shuttingDown)
        #expect(table.release(1) == true)
        var idle = TransferTable<Int>(maxTransfers: 5)
        #expect(idle.beginShutdown() == true)
    }
}
