import Foundation
import Kafka
import Ledger
import PlantSimulation
import Policy
import Routing
import Testing

@Suite("Packaging-line slowdown, end to end")
struct SlowdownTests {
    static let targets: [(topic: String, type: String)] = [
        ("erp.production.exceptions", "erp.production.exception.raised"),
        ("qms.inspection.requests", "qms.inspection.requested"),
        ("maintenance.work.requests", "maintenance.work.requested"),
        ("tms.shipment.replans", "tms.shipment.replan.requested"),
    ]

    static func traceID(_ index: Int) -> String {
        let hex = String(index + 1, radix: 16)
        return "4bf92f3577b34da6a3ce929d" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    @Test("one ERP exception, one QMS inspection, one maintenance request and one TMS replan, correlated and governed")
    func slowdownRaisesOneEventPerTarget() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        let order = try #require(testbed.simulator.plant.workOrder(for: PlantModel.slowdownAssetID))
        // Each reading carries its gateway's trace context; outputs must continue that trace.
        let scenario = testbed.simulator.slowdownScenario().enumerated().map { index, event in
            var event = event
            event.headers.append(EventHeader("traceparent", "00-\(Self.traceID(index))-00f067aa0ba902b7-01"))
            return event
        }
        let traceIDs = Dictionary(uniqueKeysWithValues: scenario.enumerated().map {
            (String(decoding: $0.element.header("ce_id")!, as: UTF8.self), Self.traceID($0.offset))
        })
        let scenarioTimes = Dictionary(uniqueKeysWithValues: scenario.map {
            (String(decoding: $0.header("ce_id")!, as: UTF8.self), String(decoding: $0.header("ce_time")!, as: UTF8.self))
        })
        let collector = try OutputCollector(testbed: testbed, topics: Self.targets.map(\.topic) + ["analytics.telemetry"])
        defer { collector.stop() }

        let configuration = testbed.configuration()
        try await testbed.withRouter(configuration) { router in
            try await testbed.publish(scenario)
            let raised = await collector.wait(timeout: .seconds(30)) { records in
                Set(records.map(\.topic)).isSuperset(of: Self.targets.map(\.topic))
            }
            #expect(raised, "the slowdown raised outputs on \(Set(collector.records.map(\.topic)))")
            // Let the lane finish the recovered readings, so a second (wrong) episode would show.
            let telemetry = try #require(router.lanes.first { $0.name == "telemetry" })
            #expect(await eventually(timeout: .seconds(20)) { telemetry.statistics.snapshot.consumed >= scenario.count })
            await collector.waitForQuiet()
        }

        let policy = testbed.policy.current
        let outputs = collector.records.filter { $0.topic != "analytics.telemetry" }
        for (topic, type) in Self.targets {
            let records = outputs.filter { $0.topic == topic }
            #expect(records.count == 1, "\(topic): \(records.count) outputs")
            guard let record = records.first else { continue }
            #expect(record.header("correlation-id") == order.id, "\(topic) correlation-id")
            #expect(record.header("ce_specversion") == "1.0")
            #expect(record.header("ce_type") == type)
            #expect(record.header("ce_source") == "plantrouter/telemetry")
            #expect(record.header("content-type") == "application/json")
            #expect(record.header("policy-version") == policy.version)
            #expect(record.header("rule-id") == "packaging-line-slowdown")
            let sourceEventID = try #require(record.header("source-event-id"), "\(topic) names its source event")
            #expect(scenarioTimes[sourceEventID] != nil, "\(topic): source event \(sourceEventID) is from the scenario")
            #expect(record.header("ce_time") == scenarioTimes[sourceEventID], "\(topic): ce_time is the triggering reading's")
            let expectedKey = IdempotencyKey.make(sourceEventID: sourceEventID, ruleID: "packaging-line-slowdown", targetTopic: topic)
            #expect(record.header("idempotency-key") == expectedKey, "\(topic) idempotency-key is deterministic")
            #expect(record.header("ce_id") == expectedKey, "\(topic) ce_id is the idempotency key")
            let traceparent = try #require(record.header("traceparent"))
            #expect(traceparent.wholeMatch(of: /00-[0-9a-f]{32}-[0-9a-f]{16}-01/) != nil, "\(topic) traceparent \(traceparent)")
            let parts = traceparent.split(separator: "-")
            #expect(parts.count == 4 && String(parts[1]) == traceIDs[sourceEventID], "\(topic) continues the reading's trace")
            #expect(parts.count == 4 && parts[2] != "00f067aa0ba902b7", "\(topic) is a new span in that trace")
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(record.value ?? [])) as? [String: Any])
            #expect(payload["workOrderId"] as? String == order.id, "\(topic) payload names the work order")
        }
        // Keys: per the policy, ERP by work order, TMS by shipment, QMS and maintenance keep the asset.
        #expect(outputs.first { $0.topic == "erp.production.exceptions" }?.keyText == order.id)
        #expect(outputs.first { $0.topic == "tms.shipment.replans" }?.keyText == order.shipmentID)
        #expect(outputs.first { $0.topic == "qms.inspection.requests" }?.keyText == PlantModel.slowdownAssetID)
        #expect(outputs.first { $0.topic == "maintenance.work.requests" }?.keyText == PlantModel.slowdownAssetID)
        // One trigger: every output comes from the same reading, within one router span.
        #expect(Set(outputs.compactMap { $0.header("source-event-id") }).count == 1)
        #expect(Set(outputs.compactMap { $0.header("traceparent") }).count == 1, "a fan-out shares its trace and span")

        // The audit trail names the decision and where each output landed.
        let trail = try await Ledger(path: configuration.database).trail(for: order.id).filter { $0.ruleID == "packaging-line-slowdown" }
        #expect(trail.count == 1, "one slowdown decision in the trail of \(order.id), got \(trail.count)")
        if let decision = trail.first {
            #expect(decision.outcome == .workflow && decision.lane == "telemetry" && decision.correlationID == order.id)
            #expect(decision.eventID == outputs.first?.header("source-event-id"))
            let audited = Set(decision.outputs.map { "\($0.topic)/\($0.partition ?? -1)@\($0.offset ?? -1) \($0.idempotencyKey)" })
            let delivered = Set(outputs.map { "\($0.topic)/\($0.partition)@\($0.offset) \($0.header("idempotency-key") ?? "")" })
            #expect(audited == delivered, "audited outputs \(audited) vs delivered \(delivered)")
        }
        withExtendedLifetime(testbed) {}
    }
}
