import Testing
@testable import Ledger

@Suite struct IdempotencyTests {
    @Test func batchesAreRecordedAndLookedUp() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.recordProduced((0..<500).map {
            ProducedOutput(idempotencyKey: "key-\($0)", topic: "erp.confirmations", partition: 0, offset: Int64($0))
        })
        let asked = ["key-0", "key-499", "key-500", "nope", "key-0"]
        #expect(try ledger.producedKeys(among: asked) == ["key-0", "key-499"])
        #expect(try ledger.producedKeys(among: []).isEmpty)
        #expect(try ledger.wasProduced("key-42"))
        #expect(try !ledger.wasProduced("key-4200"))
    }

    @Test func aKeyKeepsItsFirstPosition() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.recordProduced([ProducedOutput(idempotencyKey: "k", topic: "erp", partition: 1, offset: 10)])
        try ledger.recordProduced([ProducedOutput(idempotencyKey: "k", topic: "erp", partition: 1, offset: 99)])
        #expect(try ledger.producedOutputs(among: ["k"])["k"]?.offset == 10)
    }

    @Test func pruneForgetsOnlyOlderOutputs() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.recordProduced([
            ProducedOutput(idempotencyKey: "old", topic: "erp", partition: 0, offset: 1, producedAt: instant(0)),
            ProducedOutput(idempotencyKey: "new", topic: "erp", partition: 0, offset: 2, producedAt: instant(3600)),
        ])
        #expect(try ledger.pruneProduced(olderThan: instant(60)) == 1)
        #expect(try ledger.producedKeys(among: ["old", "new"]) == ["new"])
    }

    @Test func asyncLookups() async throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try await ledger.recordProduced([ProducedOutput(idempotencyKey: "k", topic: "erp", partition: 0, offset: 1)])
        #expect(try await ledger.producedKeys(among: ["k", "j"]) == ["k"])
    }
}
