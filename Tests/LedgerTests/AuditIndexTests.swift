import Foundation
import GRDB
import Testing
@testable import Ledger

@Suite struct AuditIndexTests {
    static let topic = "plantrouter.audit"

    static func decision(_ eventID: String, by decider: String, offset: Int64, correlation: String = "WO-1") -> AuditRecord {
        var decision = record(eventID, offset: offset, at: Double(offset), correlation: correlation,
                              outputs: [AuditOutput(topic: "erp.production.confirmations", idempotencyKey: "\(eventID)/k")])
        decision.recordID = "\(decider)/production/plant.production.confirmations/0/\(offset)"
        return decision
    }

    @Test func entriesRoundTripThroughTheirJSON() throws {
        var decided = Self.decision("evt-1", by: "a", offset: 7)
        decided.outputs[0].partition = 2
        decided.outputs[0].offset = 99
        let produced = [ProducedOutput(idempotencyKey: "evt-1/k", topic: "erp.production.confirmations", partition: 2, offset: 99, producedAt: instant(1))]
        let entry = AuditEntry(record: decided, produced: produced)
        #expect(entry.key == "WO-1")
        #expect(try AuditEntry.decode(entry.encoded(), maxBytes: 1 << 20) == entry)
    }

    @Test func hostileRecordsAreRefusedWithAReason() throws {
        let valid = try AuditEntry(record: Self.decision("evt-1", by: "a", offset: 1), produced: []).encoded()
        func refusal(_ bytes: [UInt8], maxBytes: Int = 1 << 20) -> String? {
            do {
                _ = try AuditEntry.decode(bytes, maxBytes: maxBytes)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal(valid, maxBytes: valid.count - 1)?.contains("InputLimits.maxAuditEntryBytes") == true)
        #expect(refusal(Array("not json".utf8))?.hasPrefix("not an audit entry") == true)
        #expect(refusal([])?.hasPrefix("not an audit entry") == true)
        #expect(refusal(Array(String(repeating: "[", count: 100_000).utf8)) != nil, "deep nesting is refused, not recursed into")
        #expect(refusal(Array(#"{"version":2,"produced":[]}"#.utf8))?.contains("newer") == true)
        var anonymous = Self.decision("evt-2", by: "a", offset: 2)
        anonymous.recordID = nil
        #expect(refusal(try AuditEntry(record: anonymous, produced: []).encoded())?.contains("recordID") == true)
        #expect(refusal(Array(#"{"version":1,"produced":[{"idempotencyKey":1}]}"#.utf8)) != nil)
    }

    @Test func aDecisionReadBackFromTheTopicIsStoredOnceAndGetsItsPositions() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let local = Self.decision("evt-1", by: "a", offset: 1)
        try ledger.append([local])
        var delivered = local
        delivered.outputs[0].partition = 3
        delivered.outputs[0].offset = 40
        let produced = ProducedOutput(idempotencyKey: "evt-1/k", topic: "erp.production.confirmations", partition: 3, offset: 40)
        let other = Self.decision("evt-2", by: "b", offset: 2)
        try ledger.applyAudit([
            .init(partition: 0, offset: 10, entry: AuditEntry(record: delivered, produced: [produced])),
            .init(partition: 0, offset: 11, entry: nil),
            .init(partition: 1, offset: 4, entry: AuditEntry(record: other, produced: [])),
        ], positions: [2: 8], topic: Self.topic)

        let trail = try ledger.trail(for: "WO-1")
        #expect(trail.map(\.eventID) == ["evt-1", "evt-2"], "one record per decision, the other instance's included")
        #expect(trail.first?.outputs.first?.offset == 40, "the local record gets its output's position from the topic")
        #expect(try ledger.wasProduced("evt-1/k"))
        #expect(try ledger.auditIndexPositions(topic: Self.topic) == [0: 12, 1: 5, 2: 8])

        // Read again (a second reader of the file, a restart before the position moved): nothing doubles,
        // and positions never move back.
        try ledger.applyAudit([.init(partition: 1, offset: 4, entry: AuditEntry(record: other, produced: []))], positions: [2: 3], topic: Self.topic)
        #expect(try ledger.trail(for: "WO-1").count == 2)
        #expect(try ledger.auditIndexPositions(topic: Self.topic) == [0: 12, 1: 5, 2: 8])
    }

    /// Entries as a hostile writer of the topic could craft them: extreme times and positions
    /// decode or are refused, and what decodes is indexed without a trap.
    @Test func extremeValuesAreIndexedOrRefused() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let extremes = ["1e300", "-1e300", "0", "-1", "9223372036854775807", "1.5"]
        var offset: Int64 = 0
        for time in extremes {
            for position in ["2147483647", "-2147483648", "9223372036854775807", "-1"] {
                let json = #"{"version":1,"produced":[{"idempotencyKey":"k-\#(offset)","topic":"t","partition":0,"offset":\#(position),"producedAt":\#(time)}],"record":{"recordID":"x/\#(offset)","eventID":"e-\#(offset)","lane":"l","sourceTopic":"s","sourcePartition":\#(position == "9223372036854775807" ? "0" : position),"sourceOffset":\#(position),"eventType":"t","eventSource":"s","policyVersion":"1","outcome":"workflow","reason":"r","recordedAt":\#(time),"outputs":[{"topic":"t","idempotencyKey":"k-\#(offset)","partition":0,"offset":\#(position)}]}}"#
                let entry = try? AuditEntry.decode(Array(json.utf8), maxBytes: 1 << 20)
                try ledger.applyAudit([.init(partition: 0, offset: offset, entry: entry)], positions: [:], topic: Self.topic)
                offset += 1
            }
        }
        #expect(try ledger.auditIndexPositions(topic: Self.topic) == [0: offset])
        #expect(try ledger.trail(for: "e-0").isEmpty, "a decision dated 1e300 ms is refused: the ledger stores no such year")
        #expect(try ledger.trail(for: "e-8").map(\.eventID) == ["e-8"], "one dated at the epoch is indexed")
        #expect(try ledger.trail(for: "e-20").map(\.eventID) == ["e-20"], "one dated 1.5 ms after it too")
    }

    /// Outputs indexed from the topic are stored for replays' lookups; an audit row written here
    /// before its delivery report waits for its position until a later batch names its key, even
    /// a batch whose entry carries no decision.
    @Test func indexedOutputsAreStoredAndFillInRowsThatWait() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var indexed = Self.decision("evt-1", by: "b", offset: 1)
        indexed.outputs[0].partition = 1
        indexed.outputs[0].offset = 10
        try ledger.applyAudit([.init(partition: 0, offset: 0, entry: AuditEntry(record: indexed, produced: [
            ProducedOutput(idempotencyKey: "evt-1/k", topic: "erp.production.confirmations", partition: 1, offset: 10),
        ]))], positions: [:], topic: Self.topic)
        #expect(try ledger.producedOutputs(among: ["evt-1/k"])["evt-1/k"]?.offset == 10)
        #expect(try ledger.trail(for: "evt-1")[0].outputs == indexed.outputs)

        try ledger.append([Self.decision("evt-2", by: "a", offset: 2)])
        #expect(try ledger.trail(for: "evt-2")[0].outputs.allSatisfy { !$0.isDelivered })
        try ledger.applyAudit([.init(partition: 0, offset: 1, entry: AuditEntry(record: nil, produced: [
            ProducedOutput(idempotencyKey: "evt-2/k", topic: "erp.production.confirmations", partition: 0, offset: 20),
        ]))], positions: [:], topic: Self.topic)
        #expect(try ledger.trail(for: "evt-2")[0].outputs
            == [AuditOutput(topic: "erp.production.confirmations", partition: 0, offset: 20, idempotencyKey: "evt-2/k")])
    }

    /// A time the file holds but cannot parse (a disk fault, another tool's write) makes the
    /// reader throw, not trap.
    @Test func anUnreadableStoredTimeThrows() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.applyAudit([.init(partition: 0, offset: 0, entry: AuditEntry(record: Self.decision("evt-1", by: "a", offset: 1), produced: [
            ProducedOutput(idempotencyKey: "evt-1/k", topic: "t", partition: 0, offset: 1),
        ]))], positions: [:], topic: Self.topic)
        try DatabaseQueue(path: folder.ledgerPath).write { db in
            try db.execute(sql: "UPDATE audit_event SET recorded_at = 'not a time'")
            try db.execute(sql: "UPDATE produced_output SET produced_at = ''")
        }
        #expect(throws: (any Error).self) { try ledger.trail(for: "WO-1") }
        #expect(throws: (any Error).self) { try ledger.producedOutputs(among: ["evt-1/k"]) }
    }
}
