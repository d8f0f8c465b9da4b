import Foundation
import Kafka
import Policy
import Routing
import Synchronization

/// The edge's check before the WAN, on the same Topics/ contract as the central router.
///
/// Each event's `type` names its plant source topic (the catalog's `role: source` topics list
/// the types they carry) and so its lane. The router's `PolicyEngine` then decides on the
/// record exactly as the router will: envelope and JSON (`parse`), lane authority
/// (`authority`), contract and JSON Schema (`schema`). Those rejections are spooled for the
/// lane's dead-letter topic with the router's `dlq-*` headers; everything else is spooled for
/// the source topic unchanged (which rule matches is the central router's business).
///
/// Confinement: `PolicyEngine` keeps per-rule state and is not thread-safe, so it lives in a
/// `Mutex` and every evaluation holds the lock (it takes about a microsecond per event).
public final class EdgePolicy: Sendable {
    public let policy: LoadedPolicy
    private let engine: Mutex<PolicyEngine>
    /// Event type → the first source topic of the catalog that carries it.
    private let topicByType: [String: Topic]
    private let priorityOfLane: @Sendable (String) -> PriorityClass

    public enum Verdict: Sendable {
        case spool(Spool.Incoming)
        /// Cannot be attributed to any lane (no type, or a type no lane's authority covers):
        /// refused to the gateway with 400, nothing spooled.
        case refuse(String)
    }

    public init(policy: LoadedPolicy, priorityOfLane: @escaping @Sendable (String) -> PriorityClass) {
        self.policy = policy
        self.engine = Mutex(PolicyEngine(policy: policy))
        var byType: [String: Topic] = [:]
        for topic in policy.catalog.topics where topic.role == .source {
            for event in topic.events where byType[event.type] == nil { byType[event.type] = topic }
        }
        topicByType = byType
        self.priorityOfLane = priorityOfLane
    }

    /// The source topic events of `type` are spooled for, if the catalog has one.
    public func sourceTopic(forType type: String) -> String? { topicByType[type]?.name }

    func classify(_ event: CloudEventsHTTP.Event, nowMs: Int64) -> Verdict {
        guard let type = event.type, !type.isEmpty else {
            return .refuse("event \(event.id.map { "'\($0.prefix(64))'" } ?? "without id") has no type; every CloudEvent needs type (ce-type header or \"type\")")
        }
        guard let id = event.id, !id.isEmpty else {
            return .refuse("event of type '\(type.prefix(128))' has no id; every CloudEvent needs id (ce-id header or \"id\")")
        }
        let headers = event.headers
        guard let topic = topicByType[type] else {
            // Not in any source topic's contract: a dead letter of the lane whose authority
            // covers (source, type), as the router would classify it; else nobody's.
            let source = Array((event.source ?? "").utf8)
            guard let lane = policy.catalog.lanes.first(where: { $0.authorises(source: source, type: Array(type.utf8)) }) else {
                return .refuse("event type '\(type.prefix(128))' is in no source topic of the catalog and no lane's authority covers it")
            }
            return .spool(deadLetter(event, id: id, headers: headers, lane: lane, originalTopic: "", reason: .schema,
                                     message: "ce_type: event type '\(type.prefix(128))' is in no source topic's contract", nowMs: nowMs))
        }
        let raw = RawEvent(topic: topic.name, partition: -1, offset: -1, timestampMs: nowMs, key: event.key, value: event.value, headers: event.headers)
        let decision = engine.withLock { $0.evaluate(raw, correlation: NoCorrelation()) }
        if case .deadLetter(let reason, let message) = decision.outcome, reason == .parse || reason == .schema || reason == .authority,
           let lane = policy.catalog.lane(named: topic.lane) {
            return .spool(deadLetter(event, id: id, headers: headers, lane: lane, originalTopic: topic.name, reason: reason, message: message, nowMs: nowMs))
        }
        return .spool(Spool.Incoming(
            priority: priorityOfLane(topic.lane), lane: topic.lane, topic: topic.name, key: event.key, value: event.value,
            headers: headers, eventID: id, rejected: false))
    }

    /// The original bytes and headers, then the router's dead-letter context headers.
    private func deadLetter(_ event: CloudEventsHTTP.Event, id: String, headers: [KafkaHeader], lane: Lane, originalTopic: String,
                            reason: DeadLetterReason, message: String, nowMs: Int64) -> Spool.Incoming {
        typealias Names = HeaderNames.DeadLetter
        var all = headers
        all += [
            KafkaHeader(name: Names.originalTopic, string: originalTopic),
            KafkaHeader(name: Names.originalPartition, string: "-1"),
            KafkaHeader(name: Names.originalOffset, string: "-1"),
            KafkaHeader(name: Names.originalTimestamp, string: String(nowMs)),
            KafkaHeader(name: Names.reason, string: reason.rawValue),
            KafkaHeader(name: Names.error, string: String(message.prefix(2000))),
            KafkaHeader(name: Names.policyVersion, string: policy.version),
            KafkaHeader(name: Names.attempts, string: "1"),
            KafkaHeader(name: Names.firstFailedAt, string: Date(timeIntervalSince1970: Double(nowMs) / 1000).formatted(.iso8601)),
            KafkaHeader(name: Names.lane, string: lane.name),
        ]
        return Spool.Incoming(priority: priorityOfLane(lane.name), lane: lane.name, topic: lane.deadLetterTopic, key: event.key,
                              value: event.value, headers: all, eventID: id, rejected: true)
    }
}
