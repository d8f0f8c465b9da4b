import Foundation
import Synchronization
import Testing
@testable import Ledger

@Suite struct AuditTrailTests {
    @Test func appendedRecordsComeBackWithTheirOutputsInOrder() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let outputs = [
            AuditOutput(topic: "erp.production-exceptions", partition: 0, offset: 17, idempotencyKey: "k-erp"),
            AuditOutput(topic: "qms.inspection-requests", partition: 2, offset: 5, idempotencyKey: "k-qms"),
            AuditOutput(topic: "maintenance.work-requests", partition: 1, offset: 9, idempotencyKey: "k-mnt"),
            AuditOutput(topic: "tms.shipment-replans", partition: 0, offset: 3, idempotencyKey: "k-tms"),
        ]
        let written = record("evt-1", offset: 42, at: 1.234, correlation: "WO-1042", outputs: outputs)
        try ledger.append([written, record("evt-2", offset: 43, at: 2, outcome: .drop)])

        #expect(try ledger.trail(for: "evt-1") == [written])
        #expect(try ledger.trail(for: "evt-2").map(\.outcome) == [.drop])
        #expect(try ledger.trail(for: "evt-404").isEmpty)
    }

    @Test func trailByWorkOrderIsOrderedByTimeThenOffset() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        // Appended out of order, across batches; evt-b and evt-c share a millisecond.
        try ledger.append([
            record("evt-d", offset: 30, at: 9, correlation: "WO-7"),
            record("evt-c", offset: 21, at: 5, correlation: "WO-7"),
            record("other", offset: 22, at: 5, correlation: "WO-8"),
        ])
        try ledger.append([
            record("evt-b", offset: 20, at: 5, correlation: "WO-7", outcome: .deadLetter),
            record("evt-a", offset: 99, at: 1, correlation: "WO-7"),
        ])
        #expect(try ledger.trail(for: "WO-7").map(\.eventID) == ["evt-a", "evt-b", "evt-c", "evt-d"])
        #expect(try ledger.trail(for: "WO-7")[1].reason == "schema")
    }

    @Test func deliveryReportsFillInPendingOutputs() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.append([record("evt-1", offset: 1, at: 0, outputs: [
            AuditOutput(topic: "erp.production-exceptions", idempotencyKey: "k-1"),
            AuditOutput(topic: "qms.inspection-requests", idempotencyKey: "k-2"),
        ])])
        #expect(try ledger.trail(for: "evt-1")[0].outputs.allSatisfy { !$0.isDelivered })

        try ledger.recordProduced([
            ProducedOutput(idempotencyKey: "k-1", topic: "erp.production-exceptions", partition: 3, offset: 77),
        ])
        let outputs = try ledger.trail(for: "evt-1")[0].outputs
        #expect(outputs[0] == AuditOutput(topic: "erp.production-exceptions", partition: 3, offset: 77, idempotencyKey: "k-1"))
        #expect(!outputs[1].isDelivered)
    }

    @Test func aDecisionAndItsDeliveryInOneWriteStoreTheOutputsPosition() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.record(
            [record("evt-1", offset: 1, at: 0, outputs: [AuditOutput(topic: "erp.production-exceptions", idempotencyKey: "k-1")])],
            produced: [ProducedOutput(idempotencyKey: "k-1", topic: "erp.production-exceptions", partition: 2, offset: 9)])
        let outputs = try ledger.trail(for: "evt-1")[0].outputs
        #expect(outputs == [AuditOutput(topic: "erp.production-exceptions", partition: 2, offset: 9, idempotencyKey: "k-1")])
        #expect(try ledger.wasProduced("k-1"))
    }

    @Test func emptyAndAbsentTextsStayDistinct() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var empty = record("", offset: 1, at: 0)
        empty.ruleID = ""
        empty.reason = nil
        try ledger.append([empty])
        let stored = try #require(try ledger.trail(for: "").first)
        #expect(stored.eventID == "")
        #expect(stored.ruleID == "")
        #expect(stored.reason == nil)
    }

    @Test func pruneRemovesOldRecordsAndTheirOutputs() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.append([
            record("old", offset: 1, at: 0, outputs: [AuditOutput(topic: "t", idempotencyKey: "k-old")]),
            record("new", offset: 2, at: 100),
        ])
        #expect(try ledger.pruneAudit(olderThan: instant(50)) == 1)
        #expect(try ledger.trail(for: "old").isEmpty)
        #expect(try ledger.trail(for: "new").count == 1)
    }

    @Test func appendsFromSeveralThreadsAllLand() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let threads = 8, batches = 20, batchSize = 25
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for batch in 0..<batches {
                let records = (0..<batchSize).map { index in
                    record(
                        "t\(thread)-b\(batch)-e\(index)", offset: Int64(batch * batchSize + index), at: Double(batch),
                        correlation: "WO-\(thread)",
                        outputs: [AuditOutput(topic: "erp", idempotencyKey: "t\(thread)-\(batch)-\(index)")]
                    )
                }
                do { try ledger.append(records) } catch { failures.add(error) }
            }
        }
        #expect(failures.all.isEmpty)
        for thread in 0..<threads {
            let trail = try ledger.trail(for: "WO-\(thread)")
            #expect(trail.count == batches * batchSize)
            #expect(trail.map(\.sourceOffset) == (0..<Int64(batches * batchSize)).map { $0 })
        }
    }

    @Test func asyncAppendAndTrail() async throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try await ledger.append([record("evt-1", offset: 1, at: 0, correlation: "WO-1")])
        #expect(try await ledger.trail(for: "WO-1").map(\.eventID) == ["evt-1"])
    }
}

/// Errors collected from worker threads.
final class Failures: Sendable {
    private let errors = Mutex<[any Error]>([])
    func add(_ error: any Error) { errors.withLock { $0.append(error) } }
    var all: [any Error] { errors.withLock { $0 } }
}
