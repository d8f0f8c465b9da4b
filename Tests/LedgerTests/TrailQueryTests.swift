import Foundation
import GRDB
import Testing
@testable import Ledger

/// Trails at size: filters, paging, merge of the event-id and correlation selections, index
/// use, and the time to the first record of a 50,000-record trail.
@Suite struct TrailQueryTests {
    func ids(_ ledger: Ledger, _ query: TrailQuery) throws -> [String] {
        var ids: [String] = []
        try ledger.trail(query) { record, _ in ids.append(record.eventID); return true }
        return ids
    }

    /// WO-1: five decisions of mixed type and outcome; an event whose own id is WO-1.
    func sample() throws -> (TestFolder, Ledger) {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var confirmation = record("c-1", offset: 1, at: 1, correlation: "WO-1", outputs: [
            AuditOutput(topic: "erp.production.confirmations", partition: 0, offset: 10, idempotencyKey: "k1"),
            AuditOutput(topic: "erp.inventory.movements", partition: 1, offset: 11, idempotencyKey: "k2"),
        ])
        confirmation.eventType = "production.confirmation.posted"
        var inspection = record("q-1", offset: 2, at: 2, correlation: "WO-1", outcome: .analytics)
        inspection.eventType = "quality.inspection.completed"
        var rejected = record("c-2", offset: 3, at: 3, correlation: "WO-1", outcome: .deadLetter)
        rejected.eventType = "production.confirmation.posted"
        var named = record("WO-1", offset: 4, at: 2.5, correlation: "WO-other")
        named.eventType = "mes.workorder.released"
        try ledger.append([confirmation, inspection, rejected, named, record("x", offset: 5, at: 4, correlation: "WO-2")])
        return (folder, ledger)
    }

    @Test func eventIDAndCorrelationMergeInOrder() throws {
        let (_, ledger) = try sample()
        #expect(try ids(ledger, TrailQuery(id: "WO-1")) == ["c-1", "q-1", "WO-1", "c-2"])
        #expect(try ledger.trail(for: "WO-1").first?.outputs.map(\.idempotencyKey) == ["k1", "k2"])
        // An event correlated to the id it also carries is listed once.
        try ledger.append([record("WO-3", offset: 9, at: 1, correlation: "WO-3")])
        #expect(try ids(ledger, TrailQuery(id: "WO-3")) == ["WO-3"])
    }

    @Test func filtersNarrowTheTrail() throws {
        let (_, ledger) = try sample()
        #expect(try ids(ledger, TrailQuery(id: "WO-1", type: "production.confirmation.posted")) == ["c-1", "c-2"])
        #expect(try ids(ledger, TrailQuery(id: "WO-1", type: "quality.*")) == ["q-1"])
        #expect(try ids(ledger, TrailQuery(id: "WO-1", outcome: .deadLetter)) == ["c-2"])
        #expect(try ids(ledger, TrailQuery(id: "WO-1", since: instant(2), until: instant(3))) == ["q-1", "WO-1"])
        #expect(try ids(ledger, TrailQuery(id: "WO-1", limit: 3)) == ["c-1", "q-1", "WO-1"])
        #expect(try ids(ledger, TrailQuery(id: "WO-1", type: "nothing")) == [])
    }

    @Test func pagesFollowTheirCursors() async throws {
        let (_, ledger) = try sample()
        var pages: [[String]] = []
        var query = TrailQuery(id: "WO-1", limit: 2)
        while true {
            let page = try await ledger.trailPage(query)
            pages.append(page.records.map(\.eventID))
            guard let next = page.next else { break }
            // The cursor survives its trip through text.
            query.after = try #require(TrailCursor(next.description))
        }
        #expect(pages == [["c-1", "q-1"], ["WO-1", "c-2"]])
        #expect(TrailCursor("not a cursor") == nil)
        #expect(TrailCursor("") == nil)
    }

    /// Both selections read their index in order: no full scan, no sort before the first row.
    @Test func trailReadsStreamFromTheIndexes() throws {
        let (folder, _) = try sample()
        let queue = try DatabaseQueue(path: folder.ledgerPath)
        let filtered = TrailQuery(id: "WO-1", since: instant(0), type: "production.*", outcome: .workflow,
                                  after: TrailCursor(recordedAt: "2026-01-01 00:00:00.000", sourceOffset: 0, rowID: 0))
        for query in [TrailQuery(id: "WO-1"), filtered] {
            for (selection, index) in [(Ledger.correlatedToID, "audit_event_by_correlation_id"), (Ledger.eventWithID, "audit_event_by_event_id")] {
                let statement = Ledger.trailStatement(query, selecting: selection)
                let plan = try queue.read { db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments)
                }.map { $0["detail"] as String }.joined(separator: "\n")
                #expect(plan.contains("USING INDEX \(index)"), "\(plan)")
                #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
                #expect(!plan.contains("SCAN e"), "\(plan)")
            }
        }
    }

    /// 50,000 confirmations of one order: the first record arrives fast and the whole trail
    /// streams without holding it (the visitor keeps nothing).
    @Test func fiftyThousandDecisionsStream() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let count = 50_000
        for batch in stride(from: 0, to: count, by: 5_000) {
            try ledger.append((batch..<(batch + 5_000)).map { n in
                record("c-\(n)", offset: Int64(n), at: Double(n) / 100, correlation: "WO-BIG", outputs: [
                    AuditOutput(topic: "erp.production.confirmations", partition: 0, offset: Int64(n), idempotencyKey: "e-\(n)"),
                    AuditOutput(topic: "erp.inventory.movements", partition: 0, offset: Int64(n), idempotencyKey: "m-\(n)"),
                ])
            })
        }
        try ledger.append([record("noise", offset: 0, at: 1, correlation: "WO-OTHER")])
        let reader = try Ledger(path: folder.ledgerPath, access: .readOnly)
        let clock = ContinuousClock()
        let start = clock.now
        var first: Duration?
        var seen = 0, outputs = 0
        var previous: TrailCursor?
        try reader.trail(TrailQuery(id: "WO-BIG")) { record, cursor in
            if first == nil { first = clock.now - start }
            seen += 1
            outputs += record.outputs.count
            if let previous, !(previous < cursor) { Issue.record("out of order at \(record.eventID)") }
            previous = cursor
            return true
        }
        let total = clock.now - start
        print("trail of 50,000 decisions (in process): first record after \(first ?? .zero), all after \(total)")
        #expect(seen == count && outputs == 2 * count)
        #expect(try #require(first) < .seconds(1))
    }
}
