import Foundation
import Kafka
import Ledger
import Replay
import Routing
import Testing

/// Replays end to end on an embedded cluster with a real SQLite ledger.
@Suite(.serialized)
struct ReplayJobTests {
    @Test func poisonEventIsReplayedAfterThePolicyIsFixedAndArrivesOnce() async throws {
        // The "bug": no rule handles inspection results, so they dead-letter with reason `policy`.
        let fixture = try ReplayFixture(brokenRules: ["failed-inspection-to-qms", "inspections-to-analytics"])
        var configuration = RouterConfiguration(bootstrapServers: fixture.cluster.bootstrapServers)
        configuration.instanceID = "replay-test"
        configuration.cluster.properties["fetch.wait.max.ms"] = "10"
        let router = try Router(configuration: configuration, policy: fixture.policy, ledger: fixture.ledger, logger: fixture.logger)
        await router.start()
        try fixture.publish([ReplayFixture.failedInspection(id: "insp-1")])
        let deadLettered = try await ReplayFixture.eventually { try fixture.records(in: "dlq.quality").count == 1 }
        #expect(deadLettered)
        #expect(try fixture.records(in: "dlq.quality").first.map(InspectedRecord.init)?.deadLetter?.reason == "policy")

        // What `plantrouter dlq list/stats` show. --correlation-id selects a trail of the ledger:
        // the broken policy correlates no inspection, so here the trail of the event's own id.
        let audited = try await ReplayFixture.eventually { try fixture.ledger.trail(for: "insp-1").first?.outputs.first?.isDelivered == true }
        #expect(audited)
        let inspector = DeadLetterInspector(cluster: fixture.kafka, catalog: fixture.policy.current.catalog, ledger: fixture.ledger)
        #expect(try inspector.list(lane: "quality", filter: ReplayFilter(correlationID: "WO-1")).isEmpty)
        let listed = try inspector.list(lane: "quality", filter: ReplayFilter(reason: "policy", type: "quality.*", correlationID: "insp-1"))
        #expect(listed.map(\.eventID) == ["insp-1"])
        #expect(listed.first?.deadLetter?.originalTopic == "plant.quality.results")
        #expect(try inspector.list(lane: "quality", filter: ReplayFilter(source: "plant/p2/*")).isEmpty)
        let stats = try inspector.stats(lanes: ["quality", "telemetry"])
        #expect(stats.map(\.reasons) == [["policy": 1], [:]])

        try fixture.restorePolicy()
        guard case .success = fixture.policy.reload() else { Issue.record("fixed policy does not load"); return }

        let jobs = fixture.jobs()
        let job = try await jobs.create(ReplayRequest(fromDLQ: "quality"), requestedBy: "test")
        let finished = try await jobs.run(jobID: job.id)
        #expect(finished.state == .completed)
        #expect(finished.counts.selected == 1 && finished.counts.sent == 1)
        let outputs = try fixture.records(in: "qms.inspection.requests")
        #expect(outputs.count == 1)
        #expect(outputs.first?.headers[header: HeaderNames.replayCount]?.stringValue == "1")

        // The same dead letter replayed again: its output is in the ledger, nothing new is sent.
        let again = try await jobs.run(jobID: try await jobs.create(ReplayRequest(fromDLQ: "quality"), requestedBy: "test").id)
        #expect(again.counts.skippedAlreadyProduced == 1 && again.counts.sent == 0)
        #expect(try fixture.records(in: "qms.inspection.requests").count == 1)

        // An event the (fixed) router routed successfully, replayed from its source topic: nothing new.
        try fixture.publish([ReplayFixture.failedInspection(id: "insp-2", asset: "PK2-WRAP")])
        let routed = try await ReplayFixture.eventually {
            try fixture.ledger.trail(for: "insp-2").first?.outputs.allSatisfy(\.isDelivered) == true
        }
        #expect(routed)
        let before = try fixture.records(in: "qms.inspection.requests").count
        let source = try await jobs.run(jobID: try await jobs.create(
            ReplayRequest(topic: "plant.quality.results", key: "PK2-WRAP"), requestedBy: "test").id)
        #expect(source.counts.selected == 1 && source.counts.skippedAlreadyProduced == 1 && source.counts.sent == 0)
        #expect(try fixture.records(in: "qms.inspection.requests").count == before)
        await router.stop()
    }

    @Test func stoppedReplayResumesAndSendsEveryEventExactlyOnce() async throws {
        let fixture = try ReplayFixture()
        let count = 40
        try fixture.publish((0..<count).map { ReplayFixture.failedInspection(id: "bulk-\($0)", asset: "A\($0 % 7)") })
        let jobs = fixture.jobs(batchSize: 5)
        let job = try await jobs.create(ReplayRequest(topic: "plant.quality.results"), requestedBy: "test")
        let control = ReplayControl()
        let first = try await jobs.run(jobID: job.id, control: control, onProgress: { report in
            if report.counts.selected >= 15 { control.stop() }
        })
        #expect(first.state == .paused)
        #expect(first.counts.sent >= 15 && first.counts.sent < count)

        let resumed = try await jobs.run(jobID: job.id)
        #expect(resumed.state == .completed)
        #expect(resumed.counts.selected == count && resumed.counts.sent == count && resumed.counts.skippedAlreadyProduced == 0)
        let outputs = try fixture.records(in: "qms.inspection.requests")
        let sources = outputs.compactMap { $0.headers[header: HeaderNames.sourceEventID]?.stringValue }
        #expect(outputs.count == count)
        #expect(Set(sources) == Set((0..<count).map { "bulk-\($0)" }))
    }

    @Test func dryRunLeavesEveryHighWatermarkUnchanged() async throws {
        let fixture = try ReplayFixture()
        try fixture.publish((0..<10).map { ReplayFixture.failedInspection(id: "dry-\($0)") })
        let before = try fixture.highWatermarks()
        let jobs = fixture.jobs()
        let reports = EventLog()
        let job = try await jobs.create(ReplayRequest(topic: "plant.quality.results", dryRun: true), requestedBy: "test")
        let finished = try await jobs.run(jobID: job.id, onEvent: { reports.add($0) })
        #expect(finished.state == .completed && finished.dryRun)
        #expect(finished.counts.selected == 10)
        #expect(reports.events.count == 10)
        #expect(reports.events.allSatisfy { $0.classification == "workflow" && $0.targets.map(\.topic) == ["qms.inspection.requests"] })
        #expect(try fixture.highWatermarks() == before)
    }

    @Test func eventsReplayedTooOftenAreQuarantinedNotCycled() async throws {
        let fixture = try ReplayFixture()
        var record = ReplayFixture.failedInspection(id: "looping")
        record.headers.append(KafkaHeader(name: HeaderNames.replayCount, string: "3"))
        try fixture.publish([record])
        let jobs = fixture.jobs()
        let job = try await jobs.run(jobID: try await jobs.create(ReplayRequest(topic: "plant.quality.results"), requestedBy: "test").id)
        #expect(job.counts.quarantined == 1 && job.counts.sent == 0)
        #expect(try fixture.records(in: "qms.inspection.requests").isEmpty)
        let quarantined = try fixture.records(in: "dlq.quality").map(InspectedRecord.init)
        #expect(quarantined.count == 1 && quarantined.first?.isQuarantined == true)
        // A replay of the dead-letter topic leaves quarantined events where they are.
        let dlqJob = try await jobs.run(jobID: try await jobs.create(ReplayRequest(fromDLQ: "quality"), requestedBy: "test").id)
        #expect(dlqJob.counts.selected == 0)
    }
}

/// Collects event reports from the runner thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ReplayEventReport] = []

    func add(_ event: ReplayEventReport) { lock.withLock { stored.append(event) } }
    var events: [ReplayEventReport] { lock.withLock { stored } }
}
