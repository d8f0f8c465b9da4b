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
        json.field(#"{"version":"#, integer: entry.version)
        if let record = entry.record {
            json.raw(#","record":"#)
            write(record, to: &json)
        }
        json.raw(#","produced":["#)
        for (index, output) in entry.produced.enumerated() {
            json.field(index == 0 ? #"{"idempotencyKey":"# : #",{"idempotencyKey":"#, output.idempotencyKey)
            json.field(#","topic":"#, output.topic)
            json.field(#","partition":"#, integer: output.partition)
            json.field(#","offset":"#, integer: output.offset)
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
            json.field(#""recordID":"#, recordID)
            json.raw(",")
        }
        json.field(#""eventID":"#, record.eventID)
        json.field(#","lane":"#, record.lane)
        json.field(#","sourceTopic":"#, record.sourceTopic)
        json.field(#","sourcePartition":"#, integer: record.sourcePartition)
        json.field(#","sourceOffset":"#, integer: record.sourceOffset)
        json.field(#","eventType":"#, record.eventType)
        json.field(#","eventSource":"#, record.eventSource)
        if let correlationID = record.correlationID { json.field(#","correlationID":"#, correlationID) }
        if let ruleID = record.ruleID { json.field(#","ruleID":"#, ruleID) }
        json.field(#","policyVersion":"#, record.policyVersion)
        json.field(#","outcome":"#, record.outcome.rawValue)
        if let reason = record.reason { json.field(#","reason":"#, reason) }
        json.raw(#","recordedAt":"#)
        json.number(milliseconds(record.recordedAt))
        json.raw(#","outputs":["#)
        for (index, output) in record.outputs.enumerated() {
            json.field(index == 0 ? #"{"topic":"# : #",{"topic":"#, output.topic)
            if let partition = output.partition { json.field(#","partition":"#, integer: partition) }
            if let offset = output.offset { json.field(#","offset":"#, integer: offset) }
            json.field(#","idempotencyKey":"#, output.idempotencyKey)
            json.raw("}")
        }
        json.raw("]}")
    }

    /// As `JSONEncoder.DateEncodingStrategy.millisecondsSince1970` writes a date.
    private static func milliseconds(_ date: Date) -> Double {
        1000 * date.timeIntervalSince1970
    }
}

extension JSONWriter {
    /// `prefix` is what comes before the value: a separator and the quoted key.
    fileprivate mutating func field(_ prefix: String, _ value: String) {
        raw(prefix)
        string(value)
    }

    /// Integers as their digits: a `Double` would round offsets above 2^53.
    fileprivate mutating func field(_ prefix: String, integer value: some BinaryInteger) {
        raw(prefix)
        raw(String(value))
    }
}
