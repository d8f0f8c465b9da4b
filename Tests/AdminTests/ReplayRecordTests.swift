import Admin
import Foundation
import Kafka
import Ledger
import Policy
import Replay
import Testing

/// Issue 16 through the admin API: a job says who asked (the token's name), its JSON is the
/// documented schema, and cancel answers `cancelling` until the runner has stopped.
@Suite(.serialized)
struct ReplayRecordTests {
    @Test func apiJobsNameTheirTokenAndCancelHonestly() async throws {
        let fixture = try AdminAPITests.Fixture()
        let producer = try Producer(configuration: ProducerConfiguration(client: fixture.cluster.configuration))
        for index in 0..<80 { try producer.produceWaitingForRoom(Self.failedInspection(id: "api-\(index)")) }
        try producer.close()
        let cluster = fixture.cluster
        try await fixture.test { client in
            let op = AdminAPITests.operatorToken
            // 80 events at 2/s keep the job running for 40 s: room for a CI runner whose other
            // suites hold the cooperative pool for seconds between two requests of this test
            // (cancels measured 11-14 s there, against 3 s alone).
            let started = try await client.execute("POST", "/v1/replays", token: op, body: #"{"topic": "plant.quality.results", "rate": 2}"#)
            #expect(started.status == 202)
            #expect(!started.body.contains("_0") && !started.body.contains(#"\/"#), "\(started.body)")
            let job = try Self.decode(started.body)
            #expect(job.kind == "replayJob" && job.requestedBy == "api:alice")
            #expect(job.source.topic == "plant.quality.results" && job.source.lane == "quality" && job.rate == 2)

            let running = try await Self.eventually {
                let view = try Self.decode(try await client.execute("GET", "/v1/replays/\(job.id)", token: AdminAPITests.viewer).body)
                return view.state == .running && view.counts.selected >= 2
            }
            #expect(running)
            let asked = ContinuousClock.now
            let cancel = try await client.execute("POST", "/v1/replays/\(job.id)/cancel", token: op)
            #expect(cancel.status == 200, "\(cancel.body)")
            #expect(try Self.decode(cancel.body).state == .cancelling, "the runner had not stopped yet: \(cancel.body)")
            let stopped = try await Self.eventually {
                try Self.decode(try await client.execute("GET", "/v1/replays/\(job.id)", token: AdminAPITests.viewer).body).state == .cancelled
            }
            #expect(stopped)
            // Within a second on an idle machine; room for a loaded CI runner, below the ~39 s left.
            #expect(ContinuousClock.now - asked < .seconds(25), "cancelled \(ContinuousClock.now - asked) after the request")
            print("POST /v1/replays/{id}/cancel: cancelling, then cancelled \(ContinuousClock.now - asked) after the request")
            // Cancelled means stopped: what the job counts as sent is all that reached the target.
            let final = try Self.decode(try await client.execute("GET", "/v1/replays/\(job.id)", token: AdminAPITests.viewer).body)
            #expect(final.counts.sent > 0 && final.counts.sent < 80)
            #expect(try Self.count(in: "qms.inspection.requests", partitions: 3, cluster: cluster) == final.counts.sent)
        }
    }

    static func decode(_ body: String) throws -> ReplayJobView {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ReplayJobView.self, from: Data(body.utf8))
    }

    static func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Records in `topic`, read to the end of every partition.
    static func count(in topic: String, partitions: Int, cluster: EmbeddedCluster) throws -> Int {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: "count-\(UUID().uuidString)")
        configuration.reportPartitionEOF = true
        configuration.client.properties["fetch.wait.max.ms"] = "10"
        let consumer = try Consumer(configuration: configuration)
        defer { try? consumer.close() }
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic: topic, partition: Int32($0), offset: TopicPartitionOffset.beginning) })
        var count = 0
        var atEnd = Set<Int32>()
        let deadline = ContinuousClock.now + .seconds(20)
        while atEnd.count < partitions, ContinuousClock.now < deadline {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            count += batch.records.count
            for end in batch.partitionsAtEnd { atEnd.insert(end.partition) }
        }
        return count
    }

    static func failedInspection(id: String) -> ProducerRecord {
        let body = #"{"asset":"PK1-FILL","line":"PK1","workOrderId":"WO-1","characteristic":"seal","measured":1.5,"result":"fail"}"#
        return ProducerRecord(
            topic: "plant.quality.results", key: Array("PK1-FILL".utf8), value: Array(body.utf8),
            headers: [
                KafkaHeader(name: "ce_specversion", string: "1.0"), KafkaHeader(name: "ce_id", string: id),
                KafkaHeader(name: "ce_source", string: "plant/p1/lab"), KafkaHeader(name: "ce_type", string: "quality.inspection.completed"),
                KafkaHeader(name: "ce_time", string: "2026-03-01T08:00:00Z"), KafkaHeader(name: "content-type", string: "application/json"),
            ])
    }
}
