import Foundation
import Testing
import Policy

/// Evaluates fixture policies on hand-made events: operators, windows, edge triggers, authority.
@Suite struct RuleEvaluationTests {
    func engine(_ rules: String) throws -> PolicyEngine {
        PolicyEngine(policy: try policyFixture("version: \"t\"\nrules:\n" + rules).load())
    }

    func event(_ body: String, type: String = "reading", source: String = "gw/1", seconds: Int = 0, id: String = "e") -> RawEvent {
        cloudEvent(topic: "in", type: type, source: source, id: id, time: RFC3339.format(1_772_352_000_000 + Int64(seconds) * 1000), key: "A", body: body)
    }

    /// A policy with one conditional rule to `drop` and a catch-all to analytics.
    func matches(_ condition: String, _ body: String) throws -> Bool {
        let e = try engine("""
          - id: cond
            match: { topic: in, type: reading }
            condition: '\(condition.replacingOccurrences(of: "'", with: "''"))'
            then: { drop: hit }
          - id: rest
            match: { topic: in, type: '*' }
            then: { analytics: an }
        """)
        let d = e.evaluate(event(body), correlation: NoCorrelation())
        if case .deadLetter(_, let m) = d.outcome { Issue.record("\(m)") }
        return d.ruleID == "cond"
    }

    @Test(arguments: [
        ("payload.value == 5", true), ("payload.value != 5", false), ("payload.value < 6", true), ("payload.value <= 5", true),
        ("payload.value > 5", false), ("payload.value >= 5", true), ("payload.value + 1 == 6", true), ("payload.value - 1 == 4", true),
        ("payload.value * 2 == 10", true), ("payload.value / 2 == 2.5", true), ("payload.value % 3 == 2", true), ("-payload.value == -5", true),
        ("payload.value / 0 == 1", false), ("payload.state == \"running\"", true), ("payload.state != \"down\"", true),
        ("payload.state < \"s\"", true), ("payload.state in [\"idle\", \"running\"]", true), ("payload.state not in [\"idle\", \"running\"]", false),
        ("payload.value in [1, 5]", true), ("exists(payload.state)", true), ("exists(payload.tags)", false),
        ("not exists(payload.tags)", true), ("payload.value > 1 and payload.state == \"idle\"", false),
        ("payload.value > 1 or payload.state == \"idle\"", true), ("not (payload.value > 1)", false),
        ("event.type == \"reading\"", true), ("event.source == \"gw/1\"", true), ("event.id == \"e\"", true),
        ("event.topic == \"in\"", true), ("event.key == \"A\"", true), ("event.key == \"B\"", false),
        ("(payload.value + 1) * 2 == 12", true), ("payload.value + 1 * 2 == 7", true), ("true", true), ("false", false),
    ])
    func operators(condition: String, expected: Bool) throws {
        #expect(try matches(condition, #"{"asset":"A","value":5,"state":"running"}"#) == expected, "\(condition)")
    }

    @Test func missingFieldsMakeComparisonsFalse() throws {
        let body = #"{"asset":"A","value":5}"#
        #expect(try matches("payload.state == \"x\"", body) == false)
        #expect(try matches("payload.state != \"x\"", body) == false)
        #expect(try matches("payload.state not in [\"x\"]", body) == false)
    }

    let windowRule = """
      - id: low-average
        match: { topic: in, type: reading }
        key: payload.asset
        window: { over: 60s, lateness: 10s, value: payload.value }
        condition: window.count >= 3 and window.avg < 10
        trigger: edge
        then: { drop: low }
      - id: rest
        match: { topic: in, type: '*' }
        then: { analytics: an }
    """

    @Test func timeWindowAverageWithEdgeTriggerFiresOncePerEpisode() throws {
        let e = try engine(windowRule)
        func send(_ value: Int, at s: Int) -> String? { e.evaluate(event(#"{"asset":"A","value":\#(value)}"#, seconds: s), correlation: NoCorrelation()).ruleID }
        #expect(send(5, at: 0) == "rest")     // count 1
        #expect(send(5, at: 1) == "rest")     // count 2
        #expect(send(5, at: 2) == "low-average") // count 3, avg 5: fires
        #expect(send(5, at: 3) == "rest")     // still low: edge already fired
        #expect(send(100, at: 4) == "rest")   // avg rises above 10: re-armed
        #expect(send(1, at: 70) == "rest")    // window slid: only (70) and nothing else within 60 s… count 1
        #expect(send(1, at: 71) == "rest")
        #expect(send(1, at: 72) == "low-average") // new episode fires again
    }

    @Test func outOfOrderEventsWithinLatenessCountAndLateOnesDoNot() throws {
        let e = try engine(windowRule)
        func send(_ value: Int, at s: Int) -> String? { e.evaluate(event(#"{"asset":"A","value":\#(value)}"#, seconds: s), correlation: NoCorrelation()).ruleID }
        #expect(send(5, at: 100) == "rest")
        #expect(send(5, at: 95) == "rest")  // 5 s out of order: inserted (count 2)
        #expect(send(5, at: 80) == "rest")  // 20 s late (> 10 s lateness): ignored, windows unchanged
        #expect(send(5, at: 101) == "low-average") // count 3 only because the in-lateness event counted
    }

    @Test func nOfLastM() throws {
        let e = try engine("""
          - id: three-of-five
            match: { topic: in, type: reading }
            key: payload.asset
            window: { last: 5, hits: payload.value > 7 }
            condition: window.hits >= 3
            then: { drop: alarm }
          - id: rest
            match: { topic: in, type: '*' }
            then: { analytics: an }
        """)
        let values = [8, 1, 9, 1, 9, 1, 1, 1, 8]
        let fired = values.enumerated().map { i, v in e.evaluate(event(#"{"asset":"A","value":\#(v)}"#, seconds: i), correlation: NoCorrelation()).ruleID == "three-of-five" }
        // hits in the last 5: 1,1,2,2,3 (fires, level trigger), 2 (8 fell out… [1,9,1,9,1]), 2, 1, 1
        #expect(fired == [false, false, false, false, true, false, false, false, false])
    }

    @Test func windowStateIsPerKey() throws {
        let e = try engine(windowRule)
        func send(_ asset: String, at s: Int) -> String? {
            e.evaluate(cloudEvent(topic: "in", type: "reading", source: "gw/1", time: RFC3339.format(1_772_352_000_000 + Int64(s) * 1000), key: asset,
                                  body: #"{"asset":"\#(asset)","value":1}"#), correlation: NoCorrelation()).ruleID
        }
        #expect([send("A", at: 0), send("B", at: 1), send("A", at: 2), send("B", at: 3), send("A", at: 4)] == ["rest", "rest", "rest", "rest", "low-average"])
    }

    @Test func correlationAndMapping() throws {
        let e = try engine("""
          - id: wo
            match: { topic: in, type: reading }
            correlate: payload.asset
            condition: payload.value < 0.9 * workorder.requiredRatePerMinute
            then:
              workflow:
                - to: out
                  type: out.event
                  key: workorder.id
                  payload: { asset: payload.asset, avg: payload.value * 2 }
          - id: rest
            match: { topic: in, type: '*' }
            then: { analytics: an }
        """)
        let table = WorkOrderTable([WorkOrder(id: "WO-9", asset: "A", line: "L", product: "P", requiredRatePerMinute: 100, status: "running")])
        let d = e.evaluate(event(#"{"asset":"A","value":50}"#), correlation: table)
        #expect(d.ruleID == "wo" && d.workOrderID == "WO-9")
        let emission = try #require(d.outcome.workflowEmissions.first)
        #expect(emission.correlationID == "WO-9" && emission.key == Array("WO-9".utf8))
        #expect(String(decoding: emission.payload, as: UTF8.self) == #"{"asset":"A","avg":100}"#)
        #expect(e.evaluate(event(#"{"asset":"A","value":95}"#), correlation: table).ruleID == "rest")
        #expect(e.evaluate(event(#"{"asset":"A","value":50}"#), correlation: NoCorrelation()).ruleID == "rest")
    }

    @Test func analyticsCopiesKeepTheSourceKeyAndBodyInBothModes() throws {
        let e = try engine("""
          - id: rest
            match: { topic: in, type: '*' }
            correlate: payload.asset
            then: { analytics: an }
        """)
        let table = WorkOrderTable([WorkOrder(id: "WO-3", asset: "A", line: "L", product: "P", requiredRatePerMinute: 60, status: "running")])
        let binary = event(#"{"asset":"A","value":5}"#)
        let d = e.evaluate(binary, correlation: table)
        #expect(d.outcome.targetTopics == ["an"])
        let copy = try #require(d.emissions(for: binary).first)
        #expect(copy.topic == "an" && copy.eventType == "reading" && copy.key == binary.key && copy.payload == binary.value)
        #expect(copy.correlationID == "WO-3")

        // Structured mode: the copy carries the event's data, not the whole CloudEvents envelope.
        let envelope = #"{"specversion":"1.0","id":"s1","source":"gw/1","type":"reading","data":{"asset":"B","value":7}}"#
        let structured = RawEvent(topic: "in", key: Array("B".utf8), value: Array(envelope.utf8),
                                  headers: [EventHeader("content-type", "application/cloudevents+json")])
        let s = e.evaluate(structured, correlation: table)
        let data = try #require(s.emissions(for: structured).first)
        #expect(String(decoding: data.payload, as: UTF8.self) == #"{"asset":"B","value":7}"#)
        #expect(data.key == Array("B".utf8) && data.correlationID == nil)
    }

    @Test func explainShowsOnlyConditionRelevantValues() throws {
        let e = try engine("""
          - id: big
            match: { topic: in, type: reading }
            condition: payload.value > 100
            then:
              workflow:
                - to: out
                  type: out.event
                  key: payload.asset
                  payload: { asset: payload.asset, avg: payload.value * 2 }
          - id: rest
            match: { topic: in, type: '*' }
            then: { analytics: an }
        """)
        let x = e.explain(event(#"{"asset":"A","value":5}"#), correlation: NoCorrelation())
        #expect(x.steps.first?.values.map(\.name) == ["payload.value"])
    }

    @Test func authorityAndContract() throws {
        let e = try engine("  - id: all\n    match: { topic: in, type: '*' }\n    then: { analytics: an }\n")
        #expect(e.evaluate(event(#"{"asset":"A","value":1}"#, source: "erp/1"), correlation: NoCorrelation()).outcome.deadLetterReason == .authority)
        #expect(e.evaluate(event(#"{"asset":"A","value":1}"#, type: "invoice"), correlation: NoCorrelation()).outcome.deadLetterReason == .authority)
        #expect(e.evaluate(event(#"{"asset":"A","value":1}"#), correlation: NoCorrelation()).outcome.label == "analytics")
        let unknownTopic = RawEvent(topic: "elsewhere", key: nil, value: [], headers: [])
        #expect(e.evaluate(unknownTopic, correlation: NoCorrelation()).outcome.deadLetterReason == .policy)
    }

    @Test func noMatchingRuleIsAPolicyDeadLetter() throws {
        let e = try engine("  - id: only-big\n    match: { topic: in, type: reading }\n    condition: payload.value > 100\n    then: { drop: big }\n")
        let d = e.evaluate(event(#"{"asset":"A","value":1}"#), correlation: NoCorrelation())
        #expect(d.outcome.deadLetterReason == .policy && d.ruleID == nil)
    }

    @Test func explainListsTriedRulesAndValues() throws {
        let e = try engine(windowRule)
        let x = e.explain(event(#"{"asset":"A","value":5}"#), correlation: NoCorrelation())
        #expect(x.steps.map(\.ruleID) == ["low-average", "rest"])
        #expect(x.steps[0].matched == false && x.steps[0].reason.contains("condition is false"))
        #expect(x.steps[0].values.contains { $0.name == "window.count" && $0.value == "1" })
        #expect(x.steps[1].matched)
        #expect(x.checks.contains { $0.hasPrefix("schema: valid") })
    }

    @Test func workOrderDecodingAndTombstones() throws {
        let order = WorkOrder(id: "WO-1", asset: "A", line: "L", product: "P", requiredRatePerMinute: 60, status: "running", shipmentID: "S-1")
        let record = RawEvent(topic: "mes.workorders", key: Array("WO-1".utf8), value: order.payload.jsonBytes, headers: [])
        #expect(try WorkOrder.decode(record) == order)
        var table = WorkOrderTable()
        try table.apply(record)
        #expect(table.activeWorkOrder(forAsset: "A")?.id == "WO-1")
        try table.apply(RawEvent(topic: "mes.workorders", key: Array("WO-1".utf8), value: [], headers: []))
        #expect(table.activeWorkOrder(forAsset: "A") == nil)
    }
}
