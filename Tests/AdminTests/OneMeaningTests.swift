import Foundation
import Kafka
import Ledger
import Logging
import Replay
import Synchronization
import Testing

/// `trace`, `GET /v1/trace/{id}`, `replay --correlation-id` and `dlq --correlation-id` select
/// the same events for the same work order: routed live by the default policy on the
/// embedded cluster, then asked all four ways.
@Suite(.serialized)
struct OneMeaningTests {
    static func event(_ id: String, topic: String, type: String, source: String, key: String, body: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Array(key.utf8), value: Array(body.utf8), headers: [
            KafkaHeader(name: "ce_specversion", string: "1.0"), KafkaHeader(name: "ce_id", string: id),
            KafkaHeader(name: "ce_source", string: source), KafkaHeader(name: "ce_type", string: type),
            KafkaHeader(name: "ce_time", string: "2026-03-01T08:00:00Z"), KafkaHeader(name: "content-type", string: "application/json"),
        ])
    }

    static func confirmation(_ id: String, order: String, quantity: String = #""quantity":5,"#) -> ProducerRecord {
        event(id, topic: "plant.production.confirmations", type: "production.confirmation.posted", source: "plant/p1/mes", key: order,
              body: #"{"workOrderId":"\#(order)","line":"L1","product":"SKU",\#(quantity)"unit":"EA"}"#)
    }

    static func until(_ timeout: Duration, _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    /// The trail as `plantrouter trace` streams it.
    static func trace(_ ledger: Ledger, _ id: String) throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        try ledger.trail(TrailQuery(id: id)) { record, _ in records.append(record); return true }
        return records
    }

    @Test func traceAPIReplayAndDLQAgree() async throws {
        let fixture = try AdminAPITests.Fixture()
        let ledger = fixture.ledger
        await fixture.router.start()
        #expect(await Self.until(.seconds(30)) { fixture.router.isReady })
        let producer = try Producer(configuration: ProducerConfiguration(client: fixture.cluster.configuration), logger: Logger(label: "one-meaning"))
        for record in [
            Self.confirmation("c-1", order: "WO-A"), Self.confirmation("c-2", order: "WO-A"),
            Self.confirmation("c-bad", order: "WO-A", quantity: ""),  // schema: no quantity → dead letter
            Self.confirmation("c-other", order: "WO-B"),
            Self.event("q-1", topic: "plant.quality.results", type: "quality.inspection.completed", source: "plant/p1/lab", key: "PK1",
                       body: #"{"asset":"PK1","line":"PK1","workOrderId":"WO-A","characteristic":"seal","measured":1,"result":"pass"}"#),
        ] { try producer.produceWaitingForRoom(record) }
        try producer.close()

        // Every decision recorded, every output's delivery too.
        let settled = try await Self.until(.seconds(30)) {
            let trail = try Self.trace(ledger, "WO-A")
            return trail.count == 4 && trail.allSatisfy { $0.outputs.allSatisfy(\.isDelivered) }
        }
        await fixture.router.stop()
        let recorded = try Self.trace(ledger, "WO-A")
        try #require(settled, "trail of WO-A: \(recorded.map { "\($0.eventID) \($0.outcome) \($0.outputs)" })")

        // trace (the CLI streams this query)
        let trace = recorded.map(\.eventID)
        #expect(Set(trace) == ["c-1", "c-2", "c-bad", "q-1"])
        let deadLettered = recorded.filter { $0.outcome == .deadLetter }.map(\.eventID)
        #expect(deadLettered == ["c-bad"])

        // GET /v1/trace/WO-A, a page at a time
        let pages = Mutex<[String]>([])
        try await fixture.test { client in
            var query = "limit=1"
            while true {
                let reply = try await client.execute("GET", "/v1/trace/WO-A?" + query, token: AdminAPITests.viewer)
                let page = try JSONDecoder().decode(TracePagingTests.Page.self, from: Data(reply.body.utf8))
                pages.withLock { $0 += page.records.map(\.eventID) }
                guard let next = page.next else { break }
                query = "limit=1&after=\(next)"
            }
        }
        #expect(pages.withLock { $0 } == trace)

        // dlq --correlation-id
        let inspector = DeadLetterInspector(cluster: fixture.cluster.configuration, catalog: fixture.policy.current.catalog, ledger: ledger)
        let dlq = try inspector.list(lane: "production", filter: ReplayFilter(correlationID: "WO-A")).compactMap(\.eventID)
        #expect(dlq == deadLettered)
        // Without a ledger the filter is refused, not guessed.
        #expect(throws: ReplayError.self) {
            try DeadLetterInspector(cluster: fixture.cluster.configuration, catalog: fixture.policy.current.catalog)
                .list(lane: "production", filter: ReplayFilter(correlationID: "WO-A"))
        }

        // replay --correlation-id (dry runs): from the source topics, and from the dead letters
        let jobs = fixture.dependencies.replays
        func replayed(_ request: ReplayRequest) async throws -> [String] {
            let job = try await jobs.create(request, requestedBy: "test")
            let seen = Mutex<[String]>([])
            let finished = try await jobs.run(jobID: job.id, onEvent: { event in seen.withLock { $0.append(event.eventID ?? "?") } })
            // A dry run's state says what the real run would leave: dead letters or none.
            #expect(finished.state == (finished.counts.stillDeadLetters > 0 ? .completedWithDeadLetters : .completed))
            return seen.withLock { $0 }
        }
        var fromSources: [String] = []
        for topic in ["plant.production.confirmations", "plant.quality.results"] {
            fromSources += try await replayed(ReplayRequest(topic: topic, correlationId: "WO-A", dryRun: true))
        }
        #expect(Set(fromSources) == Set(trace) && fromSources.count == trace.count)
        #expect(try await replayed(ReplayRequest(fromDLQ: "production", correlationId: "WO-A", dryRun: true)) == deadLettered)
    }
}
