import PlantSimulation
import Policy

/// `fuzz-envelope`: consumed records, framed by `RecordFraming`, through the envelope decoder
/// and a fresh engine on the default policy (windows start empty for every input, so an input
/// decides the same way on every run), as a lane does: correlation-topic records update the
/// work-order table, every other record is evaluated (or explained) and its outputs built.
public enum EnvelopeHarness {
    static let topics = DefaultTopics.policy.catalog.topics.map(\.name)
    static let workOrders = PlantSimulator().correlation()

    @discardableResult
    public static func run(_ bytes: some Collection<UInt8>) -> [Decision] {
        let policy = DefaultTopics.policy
        let engine = PolicyEngine(policy: policy, clock: DefaultTopics.clock)
        var table = workOrders
        var decisions: [Decision] = []
        for framed in RecordFraming.records(bytes, topics: topics) {
            var raw = framed.raw
            for i in 0..<framed.repeatCount {
                raw.offset = Int64(i)
                raw.timestampMs = framed.raw.timestampMs.addingReportingOverflow(Int64(i) * 1000).partialValue
                if policy.catalog.topic(named: raw.topic)?.role == .correlation {
                    try? table.apply(raw)
                    continue
                }
                let decision = framed.explain ? engine.explain(raw, correlation: table).decision : engine.evaluate(raw, correlation: table)
                check(decision, raw)
                decisions.append(decision)
            }
        }
        return decisions
    }

    /// What the router does with a decision, plus the invariants every decision must keep.
    static func check(_ decision: Decision, _ raw: RawEvent, limits: InputLimits = DefaultTopics.policy.catalog.limits) {
        if let event = decision.event {
            _ = (event.id, event.source, event.type, event.subject, event.time, event.contentType, event.traceparent)
        }
        switch decision.outcome {
        case .deadLetter(_, let message):
            precondition(!message.isEmpty, "a dead letter without a reason")
        case .workflow, .analytics:
            precondition(decision.event != nil, "\(decision.outcome.label) without a decoded event")
        case .drop:
            break
        }
        for emission in decision.emissions(for: raw) {
            _ = IdempotencyKey.make(sourceEventID: decision.event?.id ?? "", ruleID: decision.ruleID ?? "", targetTopic: emission.topic)
            // Nothing leaves the router that a strict JSON parser refuses.
            var parser = JSONParser(maxDepth: limits.maxJSONDepth)
            do { _ = try parser.parse(emission.payload) } catch {
                preconditionFailure("rule \(decision.ruleID ?? "?") emitted invalid JSON to \(emission.topic): \(error)")
            }
        }
    }
}
