import Foundation
import Ledger
import Policy

/// Writes an `AuditEntry` as the JSON its `Codable` form describes
/// (`Topics/schemas/audit-entry.json`), with the policy's `JSONWriter`.
///
/// By hand because lanes write one entry per audited event on their own thread, and
/// `JSONEncoder` was ~4% of the router's CPU while draining a backlog (perf, Benchmarks/NOTES.md).
/// Like the synthesised `Encodable`: fields in declaration order, nil optionals left out, dates
/// as milliseconds since the epoch. RoutingTests reads what it writes back through
/// `AuditEntry.decode` (Foundation's `JSONDecoder`) and through `AuditEntryDecoder`.
enum AuditEntryEncoder {
    static func encode(_ entry: AuditEntry) -> [UInt8] {
        var json = JSONWriter(capacity: 512)
        json.raw(#"{"version":"#)
        json.raw(String(entry.version))
        if let record = entry.record {
            json.raw(#","record":"#)
            write(record, to: &json)
        }
        json.raw(#","produced":["#)
        for (index, output) in entry.produced.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw(#"{"idempotencyKey":"#)
            json.string(output.idempotencyKey)
            json.raw(#","topic":"#)
            json.string(output.topic)
            json.raw(#","partition":"#)
            json.raw(String(output.partition))
            json.raw(#","offset":"#)
            json.raw(String(output.offset))
            json.raw(#","producedAt":"#)
            json.number(milliseconds(output.producedAt))
            json.raw("}")
        }
        json.raw("]}")
        return json.bytes
    }

    private static func write(_ record: AuditRecord, to json: inout JSONWriter) {
        json.raw("{")
        if let recordID = record.recordID {
            json.raw(#""recordID":"#)
            json.string(recordID)
            json.raw(",")
        }
        json.raw(#""eventID":"#)
        json.string(record.eventID)
        json.raw(#","lane":"#)
        json.string(record.lane)
        json.raw(#","sourceTopic":"#)
        json.string(record.sourceTopic)
        json.raw(#","sourcePartition":"#)
        json.raw(String(record.sourcePartition))
        json.raw(#","sourceOffset":"#)
        json.raw(String(record.sourceOffset))
        json.raw(#","eventType":"#)
        json.string(record.eventType)
        json.raw(#","eventSource":"#)
        json.string(record.eventSource)
        optional(record.correlationID, #","correlationID":"#, to: &json)
        optional(record.ruleID, #","ruleID":"#, to: &json)
        json.raw(#","policyVersion":"#)
        json.string(record.policyVersion)
        json.raw(#","outcome":"#)
        json.string(record.outcome.rawValue)
        optional(record.reason, #","reason":"#, to: &json)
        json.raw(#","recordedAt":"#)
        json.number(milliseconds(record.recordedAt))
        json.raw(#","outputs":["#)
        for (index, output) in record.outputs.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw(#"{"topic":"#)
            json.string(output.topic)
            if let partition = output.partition {
                json.raw(#","partition":"#)
                json.raw(String(partition))
            }
            if let offset = output.offset {
                json.raw(#","offset":"#)
                json.raw(String(offset))
            }
            json.raw(#","idempotencyKey":"#)
            json.string(output.idempotencyKey)
            json.raw("}")
        }
        json.raw("]}")
    }

    /// `prefix` is the comma and the quoted key: a nil value writes neither.
    private static func optional(_ value: String?, _ prefix: String, to json: inout JSONWriter) {
        guard let value else { return }
        json.raw(prefix)
        json.string(value)
    }

    /// As `JSONEncoder.DateEncodingStrategy.millisecondsSince1970` writes a date.
    private static func milliseconds(_ date: Date) -> Double {
        1000 * date.timeIntervalSince1970
    }
}
