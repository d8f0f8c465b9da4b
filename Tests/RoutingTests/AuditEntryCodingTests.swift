import Foundation
import Ledger
import Policy
import PropertyBased
import Testing
@testable import Routing

/// The lanes' encoder and the indexer's decoder against `AuditEntry`'s `Codable` form
/// (Foundation's `JSONEncoder` and `JSONDecoder`), their reference: every entry reads back the
/// same through both, and whatever the fast decoder accepts of a mutated entry, the reference
/// accepts with the same value.
@Suite struct AuditEntryCodingTests {
    static func entry(_ index: Int, correlated: Bool = true, delivered: Bool = true, produced: Bool = true) -> AuditEntry {
        let key = "evt-\(index)/rule-\(index % 3)/erp.production.confirmations"
        var output = AuditOutput(topic: "erp.production.confirmations", idempotencyKey: key)
        if delivered {
            output.partition = Int32(index % 6)
            output.offset = Int64(index) * 1_000_003
        }
        let record = AuditRecord(
            recordID: "pod-\(index % 3)/production/plant.production.confirmations/\(index % 6)/\(index)",
            eventID: "evt-\(index)", lane: "production", sourceTopic: "plant.production.confirmations",
            sourcePartition: Int32(index % 6), sourceOffset: Int64(index), eventType: "production.confirmation.posted",
            eventSource: "plant/hamburg/mes", correlationID: correlated ? "WO-\(index)" : nil, ruleID: index % 4 == 0 ? nil : "rule-\(index % 3)",
            policyVersion: "2026.12.\(index % 9)", outcome: AuditOutcome.allCases[index % AuditOutcome.allCases.count],
            reason: index % 5 == 0 ? "quality: \"escaped\" \\ text\n\u{00e9}\u{1F3ED}" : nil,
            recordedAt: Date(timeIntervalSince1970: 1_796_000_000 + Double(index) / 1000), outputs: [output])
        let confirmed = produced ? [ProducedOutput(
            idempotencyKey: key, topic: output.topic, partition: Int32(index % 6), offset: Int64(index) * 1_000_003,
            producedAt: Date(timeIntervalSince1970: 1_796_000_001 + Double(index) / 1000))] : []
        return AuditEntry(record: index % 7 == 0 ? nil : record, produced: confirmed)
    }

    @Test func entriesReadBackTheSameThroughBothCodecs() throws {
        var decoder = AuditEntryDecoder()
        for index in 0..<200 {
            for entry in [Self.entry(index), Self.entry(index, correlated: false, delivered: false, produced: false)] {
                let bytes = try entry.encoded()
                let fast = try decoder.decode(bytes, maxBytes: 1 << 20)
                #expect(fast == (try AuditEntry.decode(bytes, maxBytes: 1 << 20)))
                // Times go through milliseconds as a Double; everything else reads back exactly.
                #expect(fast.record?.recordID == entry.record?.recordID && fast.record?.reason == entry.record?.reason)
                #expect(fast.record?.outputs == entry.record?.outputs && fast.produced.map(\.offset) == entry.produced.map(\.offset))
            }
        }
        // What the lanes write reads back through the reference as the reference's own JSON does.
        for index in 0..<200 {
            for entry in [Self.entry(index), Self.entry(index, correlated: false, delivered: false, produced: false)] {
                let written = AuditEntryEncoder.encode(entry)
                let reference = try AuditEntry.decode(entry.encoded(), maxBytes: 1 << 20)
                #expect(try AuditEntry.decode(written, maxBytes: 1 << 20) == reference)
                #expect(try decoder.decode(written, maxBytes: 1 << 20) == reference)
            }
        }
        // Offsets above 2^53 are read from their digits, not through a Double.
        var far = Self.entry(1)
        far.produced[0].offset = Int64.max
        far.record?.sourceOffset = (1 << 53) + 1
        for bytes in [try far.encoded(), AuditEntryEncoder.encode(far)] {
            let read = try decoder.decode(bytes, maxBytes: 1 << 20)
            #expect(read.produced[0].offset == Int64.max && read.record?.sourceOffset == (1 << 53) + 1)
        }
    }

    /// The governed contract: what the lanes write is valid against the audit topic's schema in Topics/.
    @Test func writtenEntriesMatchTheCatalogSchema() throws {
        let catalog = try PolicyHolder(loadingFrom: RepositoryPaths.topics).current.catalog
        let schema = try #require(catalog.auditTopic?.event(type: Array(AuditEntry.eventType.utf8))?.schema)
        for index in 0..<50 {
            for entry in [Self.entry(index), Self.entry(index, correlated: false, delivered: false, produced: false)] {
                let document = try JSONDocument(parsing: AuditEntryEncoder.encode(entry))
                let violation = schema.validate(document, document.root)
                #expect(violation == nil, "\(String(describing: violation))")
            }
        }
        let incomplete = try JSONDocument(parsing: Array(#"{"version":1,"record":{"eventID":"e"}}"#.utf8))
        #expect(schema.validate(incomplete, incomplete.root) != nil, "the schema should refuse an entry without produced")
    }

    @Test func refusalsSayWhatIsWrong() throws {
        var decoder = AuditEntryDecoder()
        func refusal(_ text: String, maxBytes: Int = 1 << 20) -> String? {
            do {
                _ = try decoder.decode(Array(text.utf8), maxBytes: maxBytes)
                return nil
            } catch {
                return error.description
            }
        }
        let valid = String(decoding: try Self.entry(1).encoded(), as: UTF8.self)
        #expect(refusal(valid) == nil)
        #expect(refusal(valid, maxBytes: 10)?.contains("InputLimits.maxAuditEntryBytes") == true)
        #expect(refusal("not json")?.hasPrefix("not an audit entry") == true)
        #expect(refusal("")?.hasPrefix("not an audit entry") == true)
        #expect(refusal(String(repeating: "[", count: 100_000)) != nil, "deep nesting is refused, not recursed into")
        #expect(refusal(#"{"version":2,"produced":[]}"#)?.contains("newer") == true)
        #expect(refusal(#"{"version":1}"#)?.contains("produced is missing") == true)
        #expect(refusal(#"{"version":1.5,"produced":[]}"#)?.contains("version is not an integer") == true)
        #expect(refusal(#"{"version":1,"produced":[{"idempotencyKey":1}]}"#)?.contains("produced[].idempotencyKey is not a string") == true)
        #expect(refusal(#"{"version":1,"version":1,"produced":[]}"#)?.contains("duplicate") == true)
        let tooFar = #"{"version":1,"produced":[{"idempotencyKey":"k","topic":"t","partition":3000000000,"offset":1,"producedAt":1}]}"#
        #expect(refusal(tooFar)?.contains("partition 3000000000 is out of range") == true)
        let huge = #"{"version":1,"produced":[{"idempotencyKey":"k","topic":"t","partition":1,"offset":99999999999999999999,"producedAt":1}]}"#
        #expect(refusal(huge)?.contains("does not fit in 64 bits") == true)
        let future = #"{"version":1,"produced":[{"idempotencyKey":"k","topic":"t","partition":1,"offset":1,"producedAt":1e300}]}"#
        #expect(refusal(future)?.contains("outside years") == true)
        #expect(refusal(valid.replacingOccurrences(of: #""outcome":""#, with: #""outcome":"x"#))?.contains("record.outcome") == true)
    }

    /// Bytes replaced, cut short or inserted: the fast decoder never traps, never accepts what
    /// the reference refuses or reads it differently, and what it accepts survives its own
    /// encoding and goes into a ledger's index without trapping.
    @Test func onMutatedEntriesTheFastDecoderAgreesWithTheReference() async throws {
        let ledger = try Ledger.temporary()
        let valid = try Self.entry(5).encoded()
        let tokens = Array(#"{}[]",:0-1e9.\u0000"null true"#.utf8)
        var accepted = 0
        await propertyCheck(count: 2_000, input: Gen<Int>.int(in: 0...Int(Int32.max)).array(of: 1...3)) { edits in
            var bytes = valid
            for edit in edits where !bytes.isEmpty {
                let at = edit % bytes.count
                switch edit / bytes.count % 3 {
                case 0: bytes[at] = tokens[edit / 7 % tokens.count]
                case 1: bytes.removeSubrange(at...)
                default: bytes.insert(tokens[edit / 11 % tokens.count], at: at)
                }
            }
            var decoder = AuditEntryDecoder()
            guard let fast = try? decoder.decode(bytes, maxBytes: 1 << 20) else { return }
            accepted += 1
            #expect(fast == (try? AuditEntry.decode(bytes, maxBytes: 1 << 20)), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(try decoder.decode(AuditEntryEncoder.encode(fast), maxBytes: 1 << 20) == fast)
            try ledger.applyAudit([.init(partition: 0, offset: Int64(accepted), entry: fast)], positions: [:], topic: "plantrouter.audit")
        }
        print("mutated audit entries: the fast decoder accepted \(accepted) of 2,000, each as the reference did, and indexed them")
        #expect(accepted > 0, "the mutations should leave some entries readable, or the check compares nothing")
    }
}
