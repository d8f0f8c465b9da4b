import Foundation
import Ledger

/// What `plantrouter trace` prints, one decision at a time: a table (heading, a block per
/// decision, a summary) or JSON Lines (one decision per line).
struct TraceReport {
    var id: String
    var ledgerPath: String
    private(set) var decisions = 0
    private(set) var outputs = 0

    init(id: String, ledgerPath: String) {
        self.id = id
        self.ledgerPath = ledgerPath
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(TraceReport.timestamp(date))
        }
        return encoder
    }()

    /// One JSON object and a newline.
    mutating func jsonLine(_ record: AuditRecord) throws -> String {
        count(record)
        return String(decoding: try Self.encoder.encode(record), as: UTF8.self) + "\n"
    }

    func heading(workOrder: WorkOrderRow?) -> String {
        var lines = ["Trail of \(id) (ledger \(ledgerPath))"]
        if let order = workOrder {
            lines.append("Work order \(order.id): asset \(order.asset), line \(order.line), status \(order.status)")
        }
        lines.append("")
        lines.append("#      RECORDED AT (UTC)          OUTCOME     EVENT / TYPE / FROM / RULE / POLICY")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A decision's block: what was decided, then each output's position and idempotency key.
    mutating func tableLines(_ record: AuditRecord) -> String {
        count(record)
        let number = "\(decisions)".padding(toLength: 6, withPad: " ", startingAt: 0)
        var lines = [
            "\(number) \(Self.timestamp(record.recordedAt).padding(toLength: 26, withPad: " ", startingAt: 0)) "
                + "\(record.outcome.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(record.eventID)  \(record.eventType)",
            "\(Self.indent)from \(record.sourceTopic)[\(record.sourcePartition)]@\(record.sourceOffset)  rule \(record.ruleID ?? "-")  "
                + "policy \(record.policyVersion)" + (record.correlationID.map { "  work order \($0)" } ?? ""),
        ]
        if let reason = record.reason {
            lines.append("\(Self.indent)reason: \(reason)")
        }
        for output in record.outputs {
            let position = output.isDelivered
                ? "partition \(output.partition.map(String.init) ?? "?")  offset \(output.offset.map(String.init) ?? "?")"
                : "awaiting delivery report"
            lines.append("\(Self.indent)→ \(output.topic)  \(position)  idempotency-key \(output.idempotencyKey)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func summary() -> String {
        "\n\(plural(decisions, "decision")), \(plural(outputs, "output"))\n"
    }

    private mutating func count(_ record: AuditRecord) {
        decisions &+= 1
        outputs &+= record.outputs.count
    }

    private static let indent = String(repeating: " ", count: 34)

    private func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
