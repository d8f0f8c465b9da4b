import Foundation
import Testing
import Policy
import PlantSimulation

@Suite struct DefaultPolicyTests {
    @Test func defaultTopicsLoad() throws {
        #expect(defaultPolicy.version == "2026.03.1")
        #expect(defaultPolicy.catalog.lane(named: "production")?.transactional == true)
        #expect(defaultPolicy.catalog.lane(named: "telemetry")?.transactional == false)
        #expect(defaultPolicy.catalog.topic(named: "mes.workorders")?.cleanup == .compact)
    }

    @Test func packagingLineSlowdownYieldsExactlyFourCorrelatedOutputs() throws {
        let simulator = PlantSimulator()
        let engine = PolicyEngine(policy: defaultPolicy)
        let correlation = simulator.correlation()
        let order = try #require(simulator.plant.workOrder(for: PlantModel.slowdownAssetID))
        var workflow: [(rule: String?, emissions: [Emission])] = []
        var analytics = 0
        for event in simulator.slowdownScenario() {
            let decision = engine.evaluate(event, correlation: correlation)
            switch decision.outcome {
            case .workflow(let emissions): workflow.append((decision.ruleID, emissions))
            case .analytics: analytics += 1
            default: Issue.record("unexpected \(decision.outcome)")
            }
        }
        #expect(workflow.count == 1)
        let emissions = try #require(workflow.first?.emissions)
        #expect(workflow.first?.rule == "packaging-line-slowdown")
        #expect(Set(emissions.map(\.topic)) == ["erp.production.exceptions", "qms.inspection.requests", "maintenance.work.requests", "tms.shipment.replans"])
        #expect(emissions.count == 4)
        #expect(emissions.allSatisfy { $0.correlationID == order.id })
        let erp = try JSONDocument(parsing: emissions[0].payload).value(0)
        #expect(erp["workOrderId"] == .string(order.id))
        #expect(erp["exceptionType"] == .string("throughput_below_plan"))
        #expect((erp["observedRatePerMinute"]?.numberValue ?? 1e9) < 0.9 * order.requiredRatePerMinute)
        let tms = emissions.first { $0.topic == "tms.shipment.replans" }!
        #expect(tms.key == Array(order.shipmentID!.utf8))
        #expect(analytics == simulator.slowdownScenario().count - 1)
    }

    @Test func mixedTrafficRoutesEachKindAsDocumented() throws {
        var config = PlantSimulator.Configuration()
        config.count = 20_000
        let simulator = PlantSimulator(config)
        let engine = PolicyEngine(policy: defaultPolicy)
        let correlation = simulator.correlation()
        var byRule: [String: Int] = [:]
        var slowdownFirings = 0
        for event in simulator.events() {
            let decision = engine.evaluate(event, correlation: correlation)
            if case .deadLetter(let reason, let message) = decision.outcome { Issue.record("dead letter \(reason): \(message)") }
            byRule[decision.ruleID ?? "-", default: 0] += 1
            if decision.ruleID == "packaging-line-slowdown" { slowdownFirings += 1 }
        }
        #expect(slowdownFirings == 1)
        #expect(byRule["telemetry-to-analytics", default: 0] > 15_000)
        #expect(byRule["confirmations-to-erp", default: 0] > 0)
        #expect(byRule["unplanned-downtime-to-maintenance", default: 0] > 0)
        #expect(byRule["drop-heartbeats", default: 0] > 0)
        #expect(byRule["serious-defects-to-qms", default: 0] + byRule["minor-defects-to-qms", default: 0] > 0)
    }

    @Test(arguments: PlantSimulator.PoisonKind.allCases)
    func poisonEventsAreDeadLetteredWithTheirReason(kind: PlantSimulator.PoisonKind) {
        let simulator = PlantSimulator()
        var offsets: [String: Int64] = [:]
        let event = simulator.poison(kind, id: "p-1", timeMs: 1_772_352_000_000, offsets: &offsets)
        let decision = PolicyEngine(policy: defaultPolicy).evaluate(event, correlation: simulator.correlation())
        #expect(decision.outcome.deadLetterReason == kind.expectedReason, "\(kind): \(decision.outcome)")
    }

    /// `simulate --poison-every` ran into a broker's default message.max.bytes (1 MB) with a
    /// 1 MiB body; every poison now fits, and the oversized one is still over the router's limit.
    @Test func poisonEventsFitABrokersDefaultMessageSize() {
        let simulator = PlantSimulator()
        var offsets: [String: Int64] = [:]
        for kind in PlantSimulator.PoisonKind.allCases {
            let event = simulator.poison(kind, id: "p-1", timeMs: 1_772_352_000_000, offsets: &offsets)
            let bytes = event.value.count + event.headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
            #expect(bytes <= PlantSimulator.Configuration.largestPoisonBodyBytes, "\(kind): \(bytes) bytes")
            if kind == .oversizedBody { #expect(event.value.count > InputLimits().maxEventBytes) }
        }
    }

    @Test func confirmationsFanOutToErpTargets() throws {
        let event = cloudEvent(topic: "plant.production.confirmations", type: "production.confirmation.posted", source: "plant/hamburg/mes", key: "WO-1",
                               body: #"{"workOrderId":"WO-1","line":"L1","product":"SKU","quantity":120,"unit":"EA"}"#)
        let decision = PolicyEngine(policy: defaultPolicy).evaluate(event, correlation: NoCorrelation())
        #expect(decision.outcome.topics == ["erp.production.confirmations", "erp.inventory.movements"])
        let movement = try JSONDocument(parsing: decision.outcome.workflowEmissions[1].payload).value(0)
        #expect(movement["movementType"] == .string("goods_receipt"))
        #expect(movement["quantity"] == .number(120))
    }

    @Test func gatewayMayNotPostConfirmations() {
        let event = cloudEvent(topic: "plant.production.confirmations", type: "production.confirmation.posted", source: "plant/hamburg/gateway/l1",
                               body: #"{"workOrderId":"WO-1","line":"L1","product":"SKU","quantity":1,"unit":"EA"}"#)
        let decision = PolicyEngine(policy: defaultPolicy).evaluate(event, correlation: NoCorrelation())
        #expect(decision.outcome.deadLetterReason == .authority)
        #expect(decision.ruleID == nil)
    }
}
