import ArgumentParser
import Foundation
import Policy

struct PolicyDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Report how classifications change between two policy versions on recorded events.",
        discussion: "OLD and NEW are Topics directories or policy files. Events are replayed in order through each (window state included); records of correlation topics (mes.workorders) update the work-order table instead of being classified."
    )

    @Argument(help: "The current Topics directory or policy file.")
    var old: String

    @Argument(help: "The proposed Topics directory or policy file.")
    var new: String

    @Option(help: "Recorded events (JSONL, as written by `plantrouter simulate --record`).")
    var events: String

    @Option(help: "Print at most this many changed events.")
    var limit = 50

    func run() async throws {
        let before = try loadTopicsOrExit(old)
        let after = try loadTopicsOrExit(new)
        let recorded = try RecordedEvent.readLines(at: URL(fileURLWithPath: events))
        let oldEngine = PolicyEngine(policy: before), newEngine = PolicyEngine(policy: after)
        var oldTable = WorkOrderTable(), newTable = WorkOrderTable()
        var transitions: [String: Int] = [:]
        var changed = 0, compared = 0
        for (i, event) in recorded.enumerated() {
            let a = applyCorrelation(event, policy: before, to: &oldTable)
            let b = applyCorrelation(event, policy: after, to: &newTable)
            if a || b { continue }
            compared += 1
            let x = oldEngine.evaluate(event, correlation: oldTable)
            let y = newEngine.evaluate(event, correlation: newTable)
            let left = Self.classify(x), right = Self.classify(y)
            guard left != right else { continue }
            changed += 1
            transitions["\(x.outcome.label) (\(x.ruleID ?? "-")) → \(y.outcome.label) (\(y.ruleID ?? "-"))", default: 0] += 1
            if changed <= limit {
                let id = x.event?.id ?? y.event?.id ?? "line \(i + 1)"
                print("~ \(id) (\(event.topic)@\(event.offset)): \(left)\n    → \(right)")
            }
        }
        if changed > limit { print("… \(changed - limit) more changed events") }
        print("\nsummary: \(compared) events compared, \(changed) changed (\(before.version) → \(after.version))")
        for (transition, count) in transitions.sorted(by: { $0.value > $1.value }) { print("  \(count)\t\(transition)") }
    }

    /// Outcome, rule and target topics: what downstream teams would see change.
    static func classify(_ d: Decision) -> String {
        var text = d.outcome.label + (d.ruleID.map { " [\($0)]" } ?? "")
        let topics = d.outcome.targetTopics
        if !topics.isEmpty { text += " → " + topics.joined(separator: ", ") }
        if case .deadLetter(_, let message) = d.outcome, d.ruleID != nil { text += " (\(message))" }
        return text
    }
}
