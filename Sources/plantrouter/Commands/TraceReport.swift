import Foundation
import Ledger

/// What `plantrouter trace` prints: one audit trail, as a table or as JSON.
struct TraceReport: Encodable {
    var id: String
    var ledgerPath: String
    var workOrder: WorkOrderRow?
    var trail: [AuditRecord]

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.timestamp(date))
        }
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func table() -> String {
        let outputs = trail.reduce(0) { $0 + $1.outputs.count }
        var lines = ["Trail of \(id): \(count(trail.count, "event")), \(count(outputs, "output")) (ledger \(ledgerPath))"]
        if let order = workOrder {
            lines.append("Work order \(order.id): asset \(order.asset), line \(order.line), status \(order.status)")
        }
        lines.append("")

        let header = ["#", "RECORDED AT (UTC)", "EVENT", "TYPE", "FROM", "RULE", "POLICY", "OUTCOME"]
        let rows = trail.enumerated().map { index, record in
            [
                "\(index + 1)", Self.timestamp(record.recordedAt), record.eventID, record.eventType,
                "\(record.sourceTopic)[\(record.sourcePartition)]@\(record.sourceOffset)", record.ruleID ?? "-",
                record.policyVersion, record.outcome.rawValue,
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let indent = String(repeating: " ", count: widths[0] + 2)
        let topicWidth = trail.flatMap(\.outputs).map(\.topic.count).max() ?? 0

        lines.append(line(header))
        for (record, row) in zip(trail, rows) {
            lines.append(line(row))
            if let reason = record.reason {
                lines.append("\(indent)reason: \(reason)")
            }
            for output in record.outputs {
                let position = output.isDelivered
                    ? "partition \(output.partition.map(String.init) ?? "?")  offset \(output.offset.map(String.init) ?? "?")"
                    : "awaiting delivery report"
                lines.append("\(indent)→ \(output.topic.padding(toLength: topicWidth, withPad: " ", startingAt: 0))  "
                    + "\(position)  idempotency-key \(output.idempotencyKey)")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
