import Foundation
import Kafka
import Ledger
import Routing

/// A record of a dead-letter or source topic as an SRE reads it: where it is, what event
/// it carries, and, for a dead letter, why it failed. `dlq list/show` print it, filters
/// match against it.
public struct InspectedRecord: Sendable, Codable {
    /// The `dlq-*` context a dead letter carries (see HeaderNames.DeadLetter).
    public struct DeadLetterContext: Sendable, Codable {
        public var lane: String?
        public var reason: String
        public var error: String?
        public var ruleID: String?
        public var policyVersion: String?
        public var attempts: Int?
        public var firstFailedAt: String?
        public var originalTopic: String?
        public var originalPartition: Int32?
        public var originalOffset: Int64?
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Date
    public var key: String?
    public var eventID: String?
    public var eventType: String?
    public var eventSource: String?
    public var correlationID: String?
    /// `plantrouter-replay-count`: how many times this event was replayed already.
    public var replayCount: Int
    public var deadLetter: DeadLetterContext?
    public var headers: [String: String]
    public var valueBytes: Int
    /// The first bytes of the value as text (invalid UTF-8 shown with replacement characters).
    public var payloadPreview: String
    /// The lane whose dead-letter topic holds the record (set by `DeadLetterInspector`).
    public var lane: String?
    /// How many real (not dry-run) replay jobs replayed this very record, from the ledger.
    public var replays = 0
    /// The replay job that delivered it: a later replay sent it (or found it sent already).
    public var resolvedBy: String?
    /// True once a replay delivered it (`resolvedBy`); such a dead letter needs nothing more.
    public var resolved = false

    public static let previewBytes = 512

    public init(_ record: ConsumerRecord) {
        let headers = record.headers
        func text(_ name: String) -> String? { headers[header: name]?.stringValue }
        topic = record.topic
        partition = record.partition
        offset = record.offset
        timestamp = Date(timeIntervalSince1970: Double(record.timestampMs) / 1000)
        key = record.key.map { String(decoding: $0, as: UTF8.self) }
        let value = record.value ?? []
        valueBytes = value.count
        payloadPreview = String(decoding: value.prefix(Self.previewBytes), as: UTF8.self)
        var all: [String: String] = [:]
        for header in headers { all[header.name] = header.stringValue ?? "<\(header.value?.count ?? 0) bytes>" }
        self.headers = all
        // Any producer can write this header: a negative count reads as 0 and a huge one is
        // capped, so `replayCount + 1` never overflows (anything this high is quarantined).
        replayCount = min(max(text(HeaderNames.replayCount).flatMap(Int.init) ?? 0, 0), Int(Int32.max))

        // Binary mode carries the CloudEvents attributes in headers; structured mode in the body.
        let body = value.count <= 1 << 20 ? (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any] : nil
        let structured = text(HeaderNames.specVersion) == nil ? body : nil
        eventID = text(HeaderNames.id) ?? structured?["id"] as? String
        eventType = text(HeaderNames.type) ?? structured?["type"] as? String
        eventSource = text(HeaderNames.source) ?? structured?["source"] as? String
        let payload = (structured?["data"] as? [String: Any]) ?? body
        correlationID = text(HeaderNames.correlationID) ?? payload?["workOrderId"] as? String

        typealias Names = HeaderNames.DeadLetter
        if let reason = text(Names.reason) {
            deadLetter = DeadLetterContext(
                lane: text(Names.lane), reason: reason, error: text(Names.error), ruleID: text(Names.ruleID),
                policyVersion: text(Names.policyVersion), attempts: text(Names.attempts).flatMap(Int.init),
                firstFailedAt: text(Names.firstFailedAt), originalTopic: text(Names.originalTopic),
                originalPartition: text(Names.originalPartition).flatMap(Int32.init),
                originalOffset: text(Names.originalOffset).flatMap(Int64.init))
        }
    }

    /// The reason a dead letter was quarantined by the loop guard.
    public static let quarantineReason = "quarantine"

    public var isQuarantined: Bool { deadLetter?.reason == Self.quarantineReason }

    /// Where this record is.
    public var position: TopicPosition { TopicPosition(topic: topic, partition: partition, offset: offset) }

    /// For a dead letter, where its original event was consumed.
    public var originalPosition: TopicPosition? {
        guard let letter = deadLetter, let topic = letter.originalTopic, let partition = letter.originalPartition,
              let offset = letter.originalOffset else { return nil }
        return TopicPosition(topic: topic, partition: partition, offset: offset)
    }
}
