import Foundation
import Ledger
import Policy

/// Reads audit topic records into `AuditEntry`s with the policy's tape parser instead of
/// Foundation's `JSONDecoder`.
///
/// Written by hand because every instance decodes every instance's entries, so this cost grows
/// with the cluster: `JSONDecoder` took about half of the ~105 µs an entry cost to index (perf
/// while rebuilding 1M entries, Benchmarks/README.md). The tape parser is the one the policy
/// runs on every event: fuzzed, depth-bounded, strict UTF-8, duplicate keys refused.
///
/// The format is `AuditEntry`'s `Codable` form (`Topics/schemas/audit-entry.json`), and
/// `AuditEntry.decode` stays its reference: what this decoder accepts, that one accepts with
/// the same value (RoutingTests checks it on mutated entries). It is stricter in two ways our
/// encoder never meets: integers must be written as integers (no fraction or exponent), and a
/// key may not repeat.
///
/// Owned by one thread (the indexer's): the parser reuses its node buffer.
struct AuditEntryDecoder {
    /// An entry nests four levels (entry, record, outputs, output); anything deeper is not one.
    private var parser = JSONParser(maxDepth: 8)

    mutating func decode(_ bytes: [UInt8], maxBytes: Int) throws(AuditEntryError) -> AuditEntry {
        guard bytes.count <= maxBytes else { throw .tooLarge(bytes.count, limit: maxBytes) }
        let document: JSONDocument
        do {
            document = try parser.parse(bytes)
        } catch {
            throw .malformed(error.description)
        }
        let entry: AuditEntry
        do {
            entry = try EntryReader(document: document).entry()
        } catch {
            throw .malformed(error.description)
        }
        try entry.validate()
        return entry
    }
}

/// What is wrong with an entry's shape, named by its field.
private struct ShapeError: Error, CustomStringConvertible {
    var description: String
}

/// Reads the fields of one parsed entry; keys as `Codable` synthesises them.
private struct EntryReader {
    let document: JSONDocument

    func entry() throws(ShapeError) -> AuditEntry {
        let root = try object(document.root, "the entry")
        let version = try integer(required(root, Key.version, "version"), "version", in: Int64(Int.min)...Int64(Int.max))
        var record: AuditRecord?
        if let node = present(root, Key.record) { record = try auditRecord(node) }
        var produced: [ProducedOutput] = []
        for element in try array(required(root, Key.produced, "produced"), "produced") {
            produced.append(try producedOutput(element))
        }
        var entry = AuditEntry(record: record, produced: produced)
        entry.version = Int(version)
        return entry
    }

    private func auditRecord(_ node: Int) throws(ShapeError) -> AuditRecord {
        let node = try object(node, "record")
        let outcomeName = try string(required(node, Key.outcome, "record.outcome"), "record.outcome")
        guard let outcome = AuditOutcome(rawValue: outcomeName) else {
            throw ShapeError(description: "record.outcome \"\(outcomeName.prefix(64))\" is not one of \(AuditOutcome.allCases.map(\.rawValue))")
        }
        var outputs: [AuditOutput] = []
        for element in try array(required(node, Key.outputs, "record.outputs"), "record.outputs") {
            outputs.append(try auditOutput(element))
        }
        return AuditRecord(
            recordID: try optionalString(node, Key.recordID, "record.recordID"),
            eventID: try string(required(node, Key.eventID, "record.eventID"), "record.eventID"),
            lane: try string(required(node, Key.lane, "record.lane"), "record.lane"),
            sourceTopic: try string(required(node, Key.sourceTopic, "record.sourceTopic"), "record.sourceTopic"),
            sourcePartition: Int32(try integer(required(node, Key.sourcePartition, "record.sourcePartition"), "record.sourcePartition", in: Self.int32)),
            sourceOffset: try integer(required(node, Key.sourceOffset, "record.sourceOffset"), "record.sourceOffset", in: Self.int64),
            eventType: try string(required(node, Key.eventType, "record.eventType"), "record.eventType"),
            eventSource: try string(required(node, Key.eventSource, "record.eventSource"), "record.eventSource"),
            correlationID: try optionalString(node, Key.correlationID, "record.correlationID"),
            ruleID: try optionalString(node, Key.ruleID, "record.ruleID"),
            policyVersion: try string(required(node, Key.policyVersion, "record.policyVersion"), "record.policyVersion"),
            outcome: outcome,
            reason: try optionalString(node, Key.reason, "record.reason"),
            recordedAt: try date(required(node, Key.recordedAt, "record.recordedAt"), "record.recordedAt"),
            outputs: outputs)
    }

    private func auditOutput(_ node: Int) throws(ShapeError) -> AuditOutput {
        let node = try object(node, "record.outputs[]")
        var partition: Int32?
        if let value = present(node, Key.partition) {
            partition = Int32(try integer(value, "record.outputs[].partition", in: Self.int32))
        }
        var offset: Int64?
        if let value = present(node, Key.offset) { offset = try integer(value, "record.outputs[].offset", in: Self.int64) }
        return AuditOutput(
            topic: try string(required(node, Key.topic, "record.outputs[].topic"), "record.outputs[].topic"),
            partition: partition, offset: offset,
            idempotencyKey: try string(required(node, Key.idempotencyKey, "record.outputs[].idempotencyKey"), "record.outputs[].idempotencyKey"))
    }

    private func producedOutput(_ node: Int) throws(ShapeError) -> ProducedOutput {
        let node = try object(node, "produced[]")
        return ProducedOutput(
            idempotencyKey: try string(required(node, Key.idempotencyKey, "produced[].idempotencyKey"), "produced[].idempotencyKey"),
            topic: try string(required(node, Key.topic, "produced[].topic"), "produced[].topic"),
            partition: Int32(try integer(required(node, Key.partition, "produced[].partition"), "produced[].partition", in: Self.int32)),
            offset: try integer(required(node, Key.offset, "produced[].offset"), "produced[].offset", in: Self.int64),
            producedAt: try date(required(node, Key.producedAt, "produced[].producedAt"), "produced[].producedAt"))
    }

    // MARK: - Fields

    private static let int32 = Int64(Int32.min)...Int64(Int32.max)
    private static let int64 = Int64.min...Int64.max

    /// The value of `key`, or nil when it is missing or null (`decodeIfPresent`).
    private func present(_ object: Int, _ key: [UInt8]) -> Int? {
        guard let value = document.field(object, key), document.kind(value) != .null else { return nil }
        return value
    }

    private func required(_ object: Int, _ key: [UInt8], _ name: String) throws(ShapeError) -> Int {
        guard let value = present(object, key) else { throw ShapeError(description: "\(name) is missing") }
        return value
    }

    private func object(_ node: Int, _ name: String) throws(ShapeError) -> Int {
        guard document.kind(node) == .object else { throw ShapeError(description: "\(name) is not an object") }
        return node
    }

    private func array(_ node: Int, _ name: String) throws(ShapeError) -> [Int] {
        guard document.kind(node) == .array else { throw ShapeError(description: "\(name) is not an array") }
        return document.elements(node)
    }

    private func string(_ node: Int, _ name: String) throws(ShapeError) -> String {
        guard document.kind(node) == .string else { throw ShapeError(description: "\(name) is not a string") }
        return document.string(node)
    }

    private func optionalString(_ object: Int, _ key: [UInt8], _ name: String) throws(ShapeError) -> String? {
        guard let node = present(object, key) else { return nil }
        return try string(node, name)
    }

    /// An integer written as one (`-`, digits), read exactly from its text: a `Double` would
    /// round offsets above 2^53.
    private func integer(_ node: Int, _ name: String, in range: ClosedRange<Int64>) throws(ShapeError) -> Int64 {
        guard document.kind(node) == .number else { throw ShapeError(description: "\(name) is not a number") }
        var digits = document.rawSlice(node)[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        var magnitude: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else {
                throw ShapeError(description: "\(name) is not an integer")
            }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw ShapeError(description: "\(name) does not fit in 64 bits") }
            magnitude = sum
        }
        let value: Int64
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw ShapeError(description: "\(name) does not fit in 64 bits") }
            value = magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else { throw ShapeError(description: "\(name) does not fit in 64 bits") }
            value = Int64(magnitude)
        }
        guard range.contains(value) else { throw ShapeError(description: "\(name) \(value) is out of range") }
        return value
    }

    /// Milliseconds since the epoch, as `JSONEncoder.DateEncodingStrategy.millisecondsSince1970`
    /// writes them (`AuditEntry.validate` checks the range).
    private func date(_ node: Int, _ name: String) throws(ShapeError) -> Date {
        guard document.kind(node) == .number else { throw ShapeError(description: "\(name) is not a number") }
        return Date(timeIntervalSince1970: document.number(node) / 1000)
    }

    /// Field names as the synthesised `CodingKeys` spell them.
    private enum Key {
        static let version = Array("version".utf8)
        static let record = Array("record".utf8)
        static let produced = Array("produced".utf8)
        static let recordID = Array("recordID".utf8)
        static let eventID = Array("eventID".utf8)
        static let lane = Array("lane".utf8)
        static let sourceTopic = Array("sourceTopic".utf8)
        static let sourcePartition = Array("sourcePartition".utf8)
        static let sourceOffset = Array("sourceOffset".utf8)
        static let eventType = Array("eventType".utf8)
        static let eventSource = Array("eventSource".utf8)
        static let correlationID = Array("correlationID".utf8)
        static let ruleID = Array("ruleID".utf8)
        static let policyVersion = Array("policyVersion".utf8)
        static let outcome = Array("outcome".utf8)
        static let reason = Array("reason".utf8)
        static let recordedAt = Array("recordedAt".utf8)
        static let outputs = Array("outputs".utf8)
        static let topic = Array("topic".utf8)
        static let partition = Array("partition".utf8)
        static let offset = Array("offset".utf8)
        static let idempotencyKey = Array("idempotencyKey".utf8)
        static let producedAt = Array("producedAt".utf8)
    }
}
