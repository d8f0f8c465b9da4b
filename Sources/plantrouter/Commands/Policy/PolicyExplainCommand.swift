import ArgumentParser
import Foundation
import Policy

struct PolicyExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show which rules were tried for a recorded event, which matched and why, and what would be produced.",
        discussion: "FILE holds one recorded event (see Topics/README.md, 'Recorded events'); with several lines, earlier ones build window state and work orders (mes.workorders records) and the last one is explained."
    )

    @Option(help: "A recorded event (JSON object, or JSONL whose last line is explained).")
    var event: String

    @Option(help: "Topics directory or policy file.")
    var topics = "Topics"

    func run() async throws {
        let policy = try loadTopicsOrExit(topics)
        let events = try RecordedEvent.readLines(at: URL(fileURLWithPath: event))
        guard let last = events.last else { throw ValidationError("\(event) holds no event") }
        let engine = PolicyEngine(policy: policy)
        var table = WorkOrderTable()
        for earlier in events.dropLast() where !applyCorrelation(earlier, policy: policy, to: &table) {
            _ = engine.evaluate(earlier, correlation: table)
        }
        let explanation = engine.explain(last, correlation: table)
        print("policy \(policy.version) — event on \(last.topic) offset \(last.offset)")
        for check in explanation.checks { print("  ✓ \(check)") }
        for step in explanation.steps {
            print("  \(step.matched ? "▶ MATCH" : "  skip ") \(step.ruleID): \(step.reason)")
            if !step.values.isEmpty { print("           " + step.values.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")) }
        }
        let decision = explanation.decision
        print("decision: \(decision.outcome.label)\(decision.ruleID.map { " by rule \($0)" } ?? "")")
        switch decision.outcome {
        case .drop(let reason): print("  reason: \(reason)")
        case .deadLetter(let reason, let message): print("  reason: \(reason.rawValue): \(message)")
        case .workflow, .analytics:
            for e in decision.emissions(for: last) {
                let sourceID = decision.event?.id ?? ""
                print("  → \(e.topic) type=\(e.eventType) key=\(e.key.map { String(decoding: $0, as: UTF8.self) } ?? "-") correlation-id=\(e.correlationID ?? "-")")
                print("    idempotency-key=\(IdempotencyKey.make(sourceEventID: sourceID, ruleID: decision.ruleID ?? "", targetTopic: e.topic))")
                print("    \(String(decoding: e.payload, as: UTF8.self))")
            }
        }
    }
}
