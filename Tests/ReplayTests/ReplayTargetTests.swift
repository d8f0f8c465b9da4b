import Foundation
import Kafka
import Ledger
import Policy
@testable import Replay
import Routing
import Testing

/// Issue 13: redrive produced to whatever topic a dead letter's `dlq-original-topic` header
/// named, so anyone who could write a `dlq.*` topic could aim a redrive at an ERP topic.
@Suite(.serialized)
struct ReplayTargetTests {
    /// A record in dlq.quality as the router writes one, with `originalTopic` as given.
    static func deadLetter(id: String, originalTopic: String) -> ProducerRecord {
        var record = ReplayFixture.failedInspection(id: id)
        record.topic = "dlq.quality"
        typealias Names = HeaderNames.DeadLetter
        record.headers += [
            KafkaHeader(name: Names.reason, string: "policy"),
            KafkaHeader(name: Names.error, string: "no rule matched"),
            KafkaHeader(name: Names.lane, string: "quality"),
            KafkaHeader(name: Names.originalTopic, string: originalTopic),
            KafkaHeader(name: Names.originalPartition, string: "0"),
            KafkaHeader(name: Names.originalOffset, string: "0"),
        ]
        return record
    }

    @Test func forgedOriginalTopicIsNeverRedrivenNorRerouted() async throws {
        let fixture = try ReplayFixture()
        try fixture.publish([
            Self.deadLetter(id: "forged-erp", originalTopic: "erp.production.confirmations"),
            Self.deadLetter(id: "forged-other-lane", originalTopic: "plant.production.confirmations"),
            Self.deadLetter(id: "forged-unknown", originalTopic: "not.in.the.catalog"),
            Self.deadLetter(id: "genuine", originalTopic: "plant.quality.results"),
        ])
        let jobs = fixture.jobs()
        for mode in [ReplayMode.redrive, .reroute] {
            let reports = EventLog()
            let job = try await jobs.run(
                jobID: try await jobs.create(ReplayRequest(fromDLQ: "quality", mode: mode, maxReplays: 100), requestedBy: "test").id,
                onEvent: { reports.add($0) })
            // Refused events are still dead letters: the job says so.
            #expect(job.state == .completedWithDeadLetters)
            #expect(job.counts.selected == 4 && job.counts.sent == 1 && job.counts.refused == 3, "\(mode): \(job.counts)")
            let refused = reports.events.filter { $0.classification == ReplayTargets.refusedClassification }
            #expect(Set(refused.compactMap(\.eventID)) == ["forged-erp", "forged-other-lane", "forged-unknown"], "\(mode)")
            #expect(refused.allSatisfy { $0.targets.isEmpty && $0.reason?.contains("not a source topic of lane 'quality'") == true })
        }
        for topic in ["erp.production.confirmations", "plant.production.confirmations"] {
            #expect(try fixture.records(in: topic).isEmpty, "\(topic)")
        }
        // The genuine dead letter: redriven to its source topic, and re-routed to QMS.
        #expect(try fixture.records(in: "plant.quality.results").map { $0.headers[header: HeaderNames.id]?.stringValue } == ["genuine"])
        #expect(try fixture.records(in: "qms.inspection.requests").count == 1)
    }

    @Test func forgedHeadersOnASourceTopicDoNotRedirectARedrive() async throws {
        let fixture = try ReplayFixture()
        var record = Self.deadLetter(id: "plant-forged", originalTopic: "erp.inventory.movements")
        record.topic = "plant.quality.results"
        try fixture.publish([record])
        let jobs = fixture.jobs()
        let job = try await jobs.run(jobID: try await jobs.create(
            ReplayRequest(topic: "plant.quality.results", mode: .redrive), requestedBy: "test").id)
        #expect(job.counts.selected == 1 && job.counts.refused == 1 && job.counts.sent == 0)
        #expect(try fixture.records(in: "erp.inventory.movements").isEmpty)
    }

    @Test func targetsFollowTheCatalog() throws {
        let catalog = try PolicyHolder(loadingFrom: ReplayFixture.repositoryTopics).current.catalog
        let quality = try #require(catalog.lane(named: "quality"))
        let targets = ReplayTargets(lane: quality, catalog: catalog)
        #expect(targets.sources == ["plant.quality.results"])
        #expect(targets.refusal(sourceTopic: "plant.quality.results") == nil)
        #expect(targets.refusal(sourceTopic: "erp.production.confirmations") != nil)
        #expect(targets.refusal(sourceTopic: "dlq.quality") != nil)
        #expect(targets.refusal(output: "qms.inspection.requests") == nil)
        #expect(targets.refusal(output: "dlq.quality") == nil)
        #expect(targets.refusal(output: "dlq.production") != nil)
        #expect(targets.refusal(output: "plant.quality.results") != nil)
        #expect(targets.refusal(output: "mes.workorders") != nil)
    }
}
