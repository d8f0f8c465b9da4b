import Foundation
import Ledger
import Testing

/// `GET /v1/trace/{id}` a page at a time: cursors, filters, and the bounds of `limit`.
@Suite(.serialized)
struct TracePagingTests {
    struct Page: Decodable {
        struct Record: Decodable { var eventID: String; var outcome: String }
        var id: String
        var records: [Record]
        var next: String?
    }

    @Test func pagesWithCursorsAndFilters() async throws {
        let fixture = try AdminAPITests.Fixture()
        let base = Date(timeIntervalSince1970: 1_790_000_000)
        try await fixture.ledger.append((0..<7).map { n in
            AuditRecord(
                eventID: "c-\(n)", lane: "production", sourceTopic: "plant.production.confirmations", sourcePartition: 0,
                sourceOffset: Int64(n), eventType: "production.confirmation.posted", eventSource: "plant/p1/mes",
                correlationID: "WO-P", ruleID: "confirmations-to-erp", policyVersion: "v", outcome: n == 5 ? .deadLetter : .workflow,
                recordedAt: base.addingTimeInterval(Double(n)),
                outputs: [AuditOutput(topic: "erp.production.confirmations", partition: 0, offset: Int64(n), idempotencyKey: "k-\(n)")])
        })
        try await fixture.test { client in
            func page(_ query: String) async throws -> Page {
                let reply = try await client.execute("GET", "/v1/trace/WO-P?" + query, token: AdminAPITests.viewer)
                #expect(reply.status == 200, "\(reply.body)")
                return try JSONDecoder().decode(Page.self, from: Data(reply.body.utf8))
            }
            var seen: [[String]] = []
            var query = "limit=3"
            while true {
                let current = try await page(query)
                seen.append(current.records.map(\.eventID))
                guard let next = current.next else { break }
                query = "limit=3&after=\(next)"
            }
            #expect(seen == [["c-0", "c-1", "c-2"], ["c-3", "c-4", "c-5"], ["c-6"]])

            #expect(try await page("outcome=deadLetter").records.map(\.eventID) == ["c-5"])
            #expect(try await page("since=2026-09-21T14:13:22Z&until=2026-09-21T14:13:24Z").records.map(\.eventID) == ["c-2", "c-3"])
            // RFC 3339 allows fractional seconds.
            #expect(try await page("since=2026-09-21T14:13:22.000Z&until=2026-09-21T14:13:24.000Z").records.map(\.eventID) == ["c-2", "c-3"])
            #expect(try await page("since=2026-09-21T14:13:21.5Z&until=2026-09-21T14:13:24.000001Z").records.map(\.eventID) == ["c-2", "c-3"])
            #expect(try await page("type=production.*&limit=1").records.count == 1)
            // A filter that matches nothing is an empty page, not "nothing recorded".
            #expect(try await page("type=quality.*").records.isEmpty)

            for (bad, says) in [
                ("limit=0", "InputLimits.listLimit"), ("limit=1001", "InputLimits.listLimit"), ("limit=many", "InputLimits.listLimit"),
                ("outcome=lost", "workflow, analytics, drop, deadLetter"), ("after=garbage", "'next' value of the previous page"),
                ("since=yesterday", "RFC 3339"), ("since=2026-09-21T14:13:24Z&until=2026-09-21T14:13:22Z", "since must be before until"),
            ] {
                let reply = try await client.execute("GET", "/v1/trace/WO-P?" + bad, token: AdminAPITests.viewer)
                #expect(reply.status == 400 && reply.body.contains(says), "\(bad): \(reply.status) \(reply.body)")
            }
        }
    }
}
