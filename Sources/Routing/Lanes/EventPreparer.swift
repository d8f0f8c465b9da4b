import Foundation
import Kafka
import Ledger
import Policy

/// Turns consumed records into prepared outputs: policy decision, output
/// envelopes, dead letters and the audit record. Owned by one thread (a lane's,
/// or a replay runner's): the policy engine inside keeps window state.
public final class EventPreparer {
    let lane: Lane
    private(set) var engine: PolicyEngine
    private let envelope: OutputEnvelope
    private let correlation: any CorrelationLookup
    private var spanIDs = SpanIDGenerator()
    /// Who decides (`<instance>/<lane>` or `replay/<job>`): with the source position it makes
    /// each audit record's cluster-wide `recordID`.
    private let deciderID: String

    public init(lane: Lane, policy: LoadedPolicy, correlation: any CorrelationLookup, deciderID: String) {
        self.lane = lane
        self.deciderID = deciderID
        self.engine = PolicyEngine(policy: policy)
        self.envelope = OutputEnvelope(source: "plantrouter/\(lane.name)")
        self.correlation = correlation
    }

    public var policyVersion: String { engine.policy.version }

    /// Switches to a newly loaded policy; window state starts empty.
    func adopt(_ policy: LoadedPolicy) {
        engine = PolicyEngine(policy: policy)
    }

    public func prepare(_ record: ConsumerRecord) -> PreparedEvent {
        let raw = RawEvent(record)
        let decision = engine.evaluate(raw, correlation: correlation)
        let replayCount = record.headers[header: HeaderNames.replayCount]?.stringValue.flatMap(Int.init) ?? 0
        var outputs: [PreparedEvent.Output] = []
        switch decision.outcome {
        case .workflow, .analytics:
            // One span per source event: a fan-out's outputs share its trace.
            let traceparent = TraceParent.child(of: decision.event?.traceparentBytes, using: &spanIDs)
            decision.forEachEmission(for: raw) { emission in
                let (output, key) = envelope.record(for: emission, decision: decision, traceparent: traceparent, replayCount: replayCount)
                outputs.append(.init(record: output, idempotencyKeyBytes: key, isDeadLetter: false))
            }
        case .drop:
            break
        case .deadLetter(let reason, let message):
            outputs.append(deadLetterOutput(for: record, reason: reason, error: message, decision: DecisionContext(decision), attempts: 1))
        }
        return PreparedEvent(source: record, decision: decision, outputs: outputs, audit: audit(record, decision, outputs))
    }

    /// A dead letter for `record`, e.g. when its outputs could not be delivered.
    func deadLetterOutput(
        for record: ConsumerRecord, reason: DeadLetterReason, error: String, decision: DecisionContext?, attempts: Int,
        firstFailedAt: Date = Date()
    ) -> PreparedEvent.Output {
        let letter = DeadLetter(
            reason: reason, error: error, ruleID: decision?.ruleID, policyVersion: decision?.policyVersion ?? policyVersion,
            attempts: attempts, firstFailedAt: firstFailedAt)
        return .init(
            record: letter.record(original: record, lane: lane.name, topic: lane.deadLetterTopic),
            idempotencyKeyBytes: Array(Self.deadLetterKey(record).utf8), isDeadLetter: true)
    }

    private func audit(_ record: ConsumerRecord, _ decision: Decision, _ outputs: [PreparedEvent.Output]) -> AuditRecord? {
        let outcome: AuditOutcome
        var reason: String?
        switch decision.outcome {
        // Plain analytics are not audited; an analytics event that names its work order
        // belongs to the order's trail.
        case .analytics where decision.workOrderID == nil: return nil
        case .analytics: outcome = .analytics
        case .workflow: outcome = .workflow
        case .drop(let why): outcome = .drop; reason = why
        case .deadLetter(let why, let message): outcome = .deadLetter; reason = "\(why.rawValue): \(message)"
        }
        let event = decision.event
        return AuditRecord(
            recordID: "\(deciderID)/\(record.topic)/\(record.partition)/\(record.offset)",
            eventID: event?.id ?? record.headers[header: HeaderNames.id]?.stringValue ?? "\(record.topic)/\(record.partition)/\(record.offset)",
            lane: lane.name, sourceTopic: record.topic, sourcePartition: record.partition, sourceOffset: record.offset,
            eventType: event?.type ?? record.headers[header: HeaderNames.type]?.stringValue ?? "",
            eventSource: event?.source ?? record.headers[header: HeaderNames.source]?.stringValue ?? "",
            correlationID: decision.workOrderID,
            ruleID: decision.ruleID, policyVersion: decision.policyVersion, outcome: outcome, reason: reason,
            outputs: outputs.map { AuditOutput(topic: $0.record.topic, idempotencyKey: $0.idempotencyKey) })
    }

    /// Dead letters are keyed by their source position so the audit trail can
    /// show where each one landed.
    public static func deadLetterKey(_ record: ConsumerRecord) -> String {
        "dead-letter:\(record.topic)/\(record.partition)/\(record.offset)"
    }
}
