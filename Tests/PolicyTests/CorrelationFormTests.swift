import Foundation
import Testing
import Policy

/// `correlate:` in all its forms: the asset's active order, the order the event names (payload
/// field or header), both, the diagnostics for bad forms, and the `policy check` warning.
@Suite struct CorrelationFormTests {
    let order = WorkOrder(id: "WO-7", asset: "L1-FILL1", line: "L1", product: "P", requiredRatePerMinute: 100, status: "running")

    func confirmation(_ body: String, source: String = "plant/hamburg/mes") -> RawEvent {
        cloudEvent(topic: "plant.production.confirmations", type: "production.confirmation.posted", source: source, id: "c-1", key: "WO-9", body: body)
    }

    let confirmationBody = #"{"workOrderId":"WO-9","line":"L1","product":"P","quantity":10,"unit":"EA"}"#

    @Test func confirmationIsCorrelatedToTheOrderItNames() throws {
        // The table does not know WO-9: the event's own id is taken as is.
        let decision = PolicyEngine(policy: defaultPolicy).evaluate(confirmation(confirmationBody), correlation: NoCorrelation())
        #expect(decision.ruleID == "confirmations-to-erp")
        #expect(decision.workOrderID == "WO-9")
        #expect(decision.outcome.workflowEmissions.map(\.correlationID) == ["WO-9", "WO-9"])
        let erp = try JSONSerialization.jsonObject(with: Data(try #require(decision.outcome.workflowEmissions.first).payload)) as? [String: Any]
        #expect(erp?["workOrderId"] as? String == "WO-9")
    }

    @Test func deadLetteredConfirmationStillNamesItsOrder() {
        let engine = PolicyEngine(policy: defaultPolicy)
        // Schema violation (no quantity): rejected before any rule runs.
        let invalid = engine.evaluate(confirmation(#"{"workOrderId":"WO-9","line":"L1","product":"P","unit":"EA"}"#), correlation: NoCorrelation())
        #expect(invalid.outcome.deadLetterReason == .schema)
        #expect(invalid.workOrderID == "WO-9")
        // Authority: a gateway may not post confirmations.
        let spoofed = engine.evaluate(confirmation(confirmationBody, source: "plant/hamburg/gateway/l1"), correlation: NoCorrelation())
        #expect(spoofed.outcome.deadLetterReason == .authority)
        #expect(spoofed.workOrderID == "WO-9")
    }

    @Test func countsJoinTheTrailOnlyWhenTheyNameAnOrder() {
        let engine = PolicyEngine(policy: defaultPolicy)
        func count(_ order: String) -> RawEvent {
            cloudEvent(topic: "plant.production.counts", type: "production.count.reported", source: "plant/hamburg/gateway/l1",
                       body: #"{"asset":"L1-FILL1","line":"L1",\#(order)"good":5,"scrap":0,"intervalSeconds":60}"#)
        }
        let named = engine.evaluate(count(#""workOrderId":"WO-9","#), correlation: NoCorrelation())
        #expect(named.outcome.label == "analytics" && named.workOrderID == "WO-9")
        let anonymous = engine.evaluate(count(""), correlation: WorkOrderTable([order]))
        #expect(anonymous.outcome.label == "analytics" && anonymous.workOrderID == nil)
    }

    @Test func inspectionFallsBackToTheAssetsActiveOrder() {
        let engine = PolicyEngine(policy: defaultPolicy)
        func inspection(_ order: String) -> RawEvent {
            cloudEvent(topic: "plant.quality.results", type: "quality.inspection.completed", source: "plant/hamburg/lab",
                       body: #"{"asset":"L1-FILL1","line":"L1",\#(order)"characteristic":"fill","measured":1,"result":"fail"}"#)
        }
        let named = engine.evaluate(inspection(#""workOrderId":"WO-9","#), correlation: WorkOrderTable([order]))
        #expect(named.ruleID == "failed-inspection-to-qms" && named.workOrderID == "WO-9")
        let unnamed = engine.evaluate(inspection(""), correlation: WorkOrderTable([order]))
        #expect(unnamed.workOrderID == "WO-7")
        let qms = unnamed.outcome.workflowEmissions.first.map { String(decoding: $0.payload, as: UTF8.self) } ?? ""
        #expect(qms.contains(#""workOrderId":"WO-7""#))
    }

    // MARK: Fixture policies

    func fixture(_ rules: String) -> Fixture {
        let reading = """
            { "type": "object", "required": ["asset", "value"],
              "properties": { "asset": { "type": "string" }, "value": { "type": "number" }, "workOrderId": { "type": "string" } },
              "additionalProperties": false }
            """
        let out = """
            { "type": "object", "required": ["asset"],
              "properties": { "asset": { "type": "string" }, "workOrderId": { "type": "string" }, "product": { "type": "string" } },
              "additionalProperties": false }
            """
        return Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": reading, "schemas/out.json": out,
                        "policy.yaml": "version: \"t\"\nrules:\n" + rules])
    }

    func reading(_ body: String, headers: [EventHeader] = []) -> RawEvent {
        cloudEvent(topic: "in", type: "reading", source: "gw/1", id: "r", key: "A", body: body, extraHeaders: headers)
    }

    @Test func headerFormTakesTheOrderFromTheRecord() throws {
        let policy = try fixture("""
              - id: r
                match: { topic: in, type: reading }
                correlate: { workOrder: header.correlation-id }
                then: { workflow: [ { to: out, type: out.event, payload: { asset: payload.asset, workOrderId: workorder.id } } ] }
            """).load()
        let engine = PolicyEngine(policy: policy)
        let tagged = engine.evaluate(reading(#"{"asset":"A","value":1}"#, headers: [EventHeader("correlation-id", "WO-H")]), correlation: NoCorrelation())
        #expect(tagged.workOrderID == "WO-H")
        #expect(String(decoding: try #require(tagged.outcome.workflowEmissions.first).payload, as: UTF8.self) == #"{"asset":"A","workOrderId":"WO-H"}"#)
        let untagged = engine.evaluate(reading(#"{"asset":"A","value":1}"#), correlation: NoCorrelation())
        #expect(untagged.workOrderID == nil && untagged.outcome.label == "workflow")
    }

    @Test func namedOrderReadsDetailsFromTheTableWhenTheRuleUsesThem() throws {
        let policy = try fixture("""
              - id: r
                match: { topic: in, type: reading }
                correlate: { workOrder: payload.workOrderId }
                then: { workflow: [ { to: out, type: out.event, payload: { asset: payload.asset, product: workorder.product } } ] }
            """).load()
        let known = WorkOrder(id: "WO-K", asset: "X", line: "L", product: "Jam", requiredRatePerMinute: 1, status: "completed")
        let decision = PolicyEngine(policy: policy).evaluate(reading(#"{"asset":"A","value":1,"workOrderId":"WO-K"}"#), correlation: WorkOrderTable([known]))
        #expect(decision.workOrderID == "WO-K")
        #expect(String(decoding: try #require(decision.outcome.workflowEmissions.first).payload, as: UTF8.self) == #"{"asset":"A","product":"Jam"}"#)
    }

    @Test func assetShorthandKeepsItsMeaning() throws {
        let policy = try fixture("""
              - id: r
                match: { topic: in, type: reading }
                correlate: payload.asset
                then: { analytics: [an] }
              - id: s
                match: { topic: in, type: alarm }
                correlate: { asset: payload.asset }
                then: { analytics: [an] }
            """).load()
        let order = WorkOrder(id: "WO-A", asset: "A", line: "L", product: "P", requiredRatePerMinute: 1, status: "running")
        let engine = PolicyEngine(policy: policy)
        #expect(engine.evaluate(reading(#"{"asset":"A","value":1,"workOrderId":"WO-Z"}"#), correlation: WorkOrderTable([order])).workOrderID == "WO-A")
        let alarm = cloudEvent(topic: "in", type: "alarm", source: "gw/1", key: "A", body: #"{"asset":"A","value":1}"#)
        #expect(engine.evaluate(alarm, correlation: WorkOrderTable([order])).workOrderID == "WO-A")
    }

    @Test(arguments: [
        ("correlate: { workorder: payload.workOrderId }", "unknown key 'workorder' in correlate", "did you mean 'workOrder'?"),
        ("correlate: {}", "correlate names neither 'workOrder' nor 'asset'", "correlate: { workOrder: payload.workOrderId }"),
        ("correlate: header.correlation-id", "would look up the active work order on an asset named by a header", "correlate: { workOrder: header.correlation-id }"),
        ("correlate: [payload.asset]", "correlate must be an expression or a mapping", "correlate: payload.asset"),
        ("correlate: { asset: header.line }", "correlate.asset reads the event, not headers", "asset: payload.asset"),
        ("correlate: { workOrder: header. }", "'header.' names no header", "header.correlation-id"),
        ("correlate: { workOrder: payload.workOrderID }", "payload has no field 'workOrderID'", "did you mean 'payload.workOrderId'?"),
        ("correlate: { workOrder: payload.value }", "correlate.workOrder must be a string, but this expression is number", ""),
    ])
    func badFormsAreExplained(line: String, message: String, hint: String) {
        let diagnostics = fixture("""
              - id: r
                match: { topic: in, type: reading }
                \(line)
                then: { analytics: [an] }
            """).diagnostics()
        #expect(diagnostics.contains { $0.message.contains(message) && (hint.isEmpty || ($0.hint ?? "").contains(hint)) }, "\(diagnostics)")
    }

    @Test func uncorrelatedWorkflowNamingAnOrderIsWarnedAbout() throws {
        let rule = """
              - id: r
                match: { topic: in, type: reading }
            %@
                then: { workflow: [ { to: out, type: out.event, payload: { asset: payload.asset, workOrderId: payload.workOrderId } } ] }
            """
        let uncorrelated = try fixture(rule.replacingOccurrences(of: "%@\n", with: "")).load()
        #expect(uncorrelated.warnings.count == 1)
        let warning = try #require(uncorrelated.warnings.first)
        #expect(warning.severity == .warning && warning.description.contains("warning: rule 'r' sends a work order id in its outputs but its decision is not correlated"))
        #expect(warning.hint?.contains("correlate: { workOrder: payload.workOrderId }") == true)
        #expect(warning.line == 5)

        let correlated = try fixture(rule.replacingOccurrences(of: "%@", with: "    correlate: { workOrder: payload.workOrderId }")).load()
        #expect(correlated.warnings.isEmpty)
    }

    @Test func assetLookupByAnOrderFieldIsWarnedAbout() throws {
        let policy = try fixture("""
              - id: r
                match: { topic: in, type: reading }
                correlate: payload.workOrderId
                then: { analytics: [an] }
            """).load()
        #expect(policy.warnings.map(\.hint) == ["when the event names its order, write correlate: { workOrder: payload.workOrderId }"])
    }

    @Test func defaultPolicyHasNoWarnings() {
        #expect(defaultPolicy.warnings.isEmpty, "\(defaultPolicy.warnings)")
    }
}
