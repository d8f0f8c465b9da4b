/// Evaluates the policy for one lane.
///
/// Confinement: an engine holds window and edge-trigger state and reusable buffers, so it is
/// deliberately not `Sendable`: create one per lane and call it from that lane's thread only.
/// The `LoadedPolicy` it runs is immutable and shared. On reload, build a new engine (window
/// state starts empty; windows refill within their duration).
///
/// Order of checks for each event (documented in Topics/README.md):
/// 1. topic in the catalog (else dead-letter `policy`)
/// 2. envelope and JSON (`parse`)  3. data authority of the lane (`authority`)
/// 4. event type in the topic's contract (`schema`)  5. JSON Schema of the type (`schema`)
/// 6. rules of the topic in file order: the FIRST rule that matches decides; no match → `policy`.
public final class PolicyEngine {
    public let policy: LoadedPolicy
    private var decoder: EnvelopeDecoder
    private let context = EvalContext(event: .placeholder)
    private var runtimes: [TopicRuntime]
    private let topicIndex: [String: Int]
    private var lastTopic = ""
    private var lastTopicIndex = -1
    /// Per rule: state per key.
    private var states: [[String: KeyState]]

    private struct TopicRuntime {
        let topic: Topic
        let lane: Lane?
        let rules: [Int]
        var cache = ResolutionCache()
    }

    public init(policy: LoadedPolicy) {
        self.policy = policy
        decoder = EnvelopeDecoder(maxBodyBytes: policy.catalog.maxEventBytes)
        runtimes = policy.catalog.topics.map { topic in
            TopicRuntime(topic: topic, lane: policy.catalog.lane(named: topic.lane),
                         rules: policy.rules.indices.filter { policy.rules[$0].topic == topic.name })
        }
        topicIndex = Dictionary(policy.catalog.topics.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        states = Array(repeating: [:], count: policy.rules.count)
    }

    /// Decides what happens to `event`.
    public func evaluate(_ event: RawEvent, correlation: some CorrelationLookup) -> Decision {
        run(event, correlation, trace: nil)
    }

    /// Like `evaluate`, recording every check and rule tried (for `policy explain`).
    public func explain(_ event: RawEvent, correlation: some CorrelationLookup) -> Explanation {
        let trace = Trace()
        let decision = run(event, correlation, trace: trace)
        return Explanation(decision: decision, steps: trace.steps, checks: trace.checks)
    }

    private final class Trace {
        var steps: [Explanation.Step] = []
        var checks: [String] = []
    }

    private func deadLetter(_ reason: DeadLetterReason, _ message: String, event: DecodedEvent?, rule: String? = nil) -> Decision {
        Decision(policyVersion: policy.version, ruleID: rule, event: event, outcome: .deadLetter(reason: reason, message: message))
    }

    private func run(_ raw: RawEvent, _ lookup: some CorrelationLookup, trace: Trace?) -> Decision {
        let ti: Int
        if raw.topic == lastTopic, lastTopicIndex >= 0 {
            ti = lastTopicIndex
        } else if let found = topicIndex[raw.topic] {
            ti = found
            lastTopic = raw.topic
            lastTopicIndex = found
        } else {
            trace?.checks.append("topic: '\(raw.topic)' is not in the catalog")
            return deadLetter(.policy, "topic '\(raw.topic)' is not in the catalog", event: nil)
        }

        let event: DecodedEvent
        do {
            event = try decoder.decode(raw)
        } catch {
            trace?.checks.append("envelope: \(error)")
            return deadLetter(error.reason, "\(error.field): \(error.message)", event: nil)
        }
        trace?.checks.append("envelope: CloudEvents \(event.mode.rawValue) mode, id \(event.id), type \(event.type), source \(event.source)")

        let hash = ResolutionCache.hash(event.typeBytes, event.sourceBytes)
        let resolution: Resolution
        if let cached = runtimes[ti].cache.find(hash, event.typeBytes, event.sourceBytes) {
            resolution = cached
        } else {
            resolution = resolve(ti, event)
            runtimes[ti].cache.insert(hash, event.typeBytes, event.sourceBytes, resolution)
        }
        let topic = runtimes[ti].topic
        guard resolution.authorised else {
            let message = "ce_source: source '\(event.source)' may not emit '\(event.type)' in lane '\(topic.lane)' (catalog authority)"
            trace?.checks.append("authority: \(message)")
            return deadLetter(.authority, message, event: event)
        }
        guard let eventIndex = resolution.eventIndex else {
            let message = "ce_type: event type '\(event.type)' is not in the contract of topic '\(topic.name)' (declared: \(topic.events.map(\.type).joined(separator: ", ")))"
            trace?.checks.append("contract: \(message)")
            return deadLetter(.schema, message, event: event)
        }
        trace?.checks.append("authority: '\(event.source)' may emit '\(event.type)' in lane '\(topic.lane)'")
        let contract = topic.events[eventIndex]
        if let violation = contract.schema.validate(event.document, event.payloadNode) {
            trace?.checks.append("schema: \(contract.schemaFile): violation at \(violation.pointer): \(violation.message)")
            return deadLetter(.schema, "schema violation at \(violation.pointer): \(violation.message) (\(contract.schemaFile))", event: event)
        }
        trace?.checks.append("schema: valid against \(contract.schemaFile)")

        let ctx = context
        ctx.event = event
        ctx.topic = raw.topic
        ctx.key = raw.key
        defer { ctx.event = .placeholder; ctx.workOrder = nil; ctx.window = nil }
        for ruleIndex in resolution.candidates {
            let rule = policy.rules[ruleIndex]
            ctx.workOrder = nil
            ctx.window = nil
            func skip(_ reason: String) {
                trace?.steps.append(.init(ruleID: rule.id, matched: false, reason: reason, values: explainValues(rule)))
            }
            if let filter = rule.filter, !filter(ctx) { skip("match.where is false: \(rule.filterText ?? "")"); continue }
            if let correlate = rule.correlate, case .string(let asset) = correlate(ctx) {
                ctx.workOrder = lookup.activeWorkOrder(forAsset: asset)
            }
            var state: KeyState?
            if let keyFn = rule.key {
                let key: String
                switch keyFn(ctx) {
                case .string(let s): key = s
                case .number(let n): key = Value.number(n).debugText
                default: skip("the rule's key is missing in this event"); continue
                }
                if let existing = states[ruleIndex][key] {
                    state = existing
                } else {
                    let created = KeyState()
                    states[ruleIndex][key] = created
                    state = created
                }
            }
            if let window = rule.window, let state {
                let value = window.value?(ctx) ?? 0
                if value.isNaN {
                    skip("window.value is missing in this event; it does not enter the window")
                    continue
                }
                let hit = window.hits?(ctx) ?? false
                guard state.add(time: event.timeMs, value: value, hit: hit, kind: window.kind) else {
                    skip("late event (older than the window's allowed lateness): windows unchanged, the rule does not apply")
                    continue
                }
                ctx.window = state
            }
            let holds = rule.condition?(ctx) ?? true
            if rule.trigger == .edge, let state {
                if !holds { state.armed = true; skip("condition is false (edge trigger re-armed): \(rule.conditionText ?? "")"); continue }
                if !state.armed { skip("condition still true but the edge trigger already fired for this key; it re-arms when the condition is false"); continue }
                state.armed = false
            } else if !holds {
                skip("condition is false: \(rule.conditionText ?? "")")
                continue
            }
            trace?.steps.append(.init(ruleID: rule.id, matched: true, reason: rule.condition == nil ? "matched topic, type and source" : "condition is true: \(rule.conditionText ?? "")", values: explainValues(rule)))
            var decided = event
            decided.workOrderID = ctx.workOrder?.id
            return Decision(policyVersion: policy.version, ruleID: rule.id, event: decided, outcome: outcome(rule, raw, contract))
        }
        trace?.checks.append("rules: none of \(resolution.candidates.count) candidate rule(s) matched")
        return deadLetter(.policy, "no rule matched event type '\(event.type)' on topic '\(topic.name)'", event: event)
    }

    private func outcome(_ rule: CompiledRule, _ raw: RawEvent, _ contract: TopicEvent) -> Outcome {
        let ctx = context
        switch rule.outcome {
        case .drop(let reason): return .drop(reason: reason)
        case .deadLetter(let reason, let message): return .deadLetter(reason: reason, message: message)
        case .analytics(let topics):
            let body = ctx.event.mode == .binary ? raw.value : Array(ctx.event.payloadBytes)
            return .analytics(topics.map { Emission(topic: $0, key: raw.key, eventType: contract.type, payload: body, correlationID: ctx.workOrder?.id) })
        case .workflow(let targets):
            var emissions: [Emission] = []
            emissions.reserveCapacity(targets.count)
            for target in targets {
                var key = raw.key
                if let keyFn = target.key {
                    switch keyFn(ctx) {
                    case .string(let s): key = Array(s.utf8)
                    case .number(let n): key = Array(Value.number(n).debugText.utf8)
                    default: return .deadLetter(reason: .target, message: "rule '\(rule.id)': the key for '\(target.topic)' is missing in this event")
                    }
                }
                let payload: [UInt8]
                if let template = target.payload {
                    var writer = JSONWriter()
                    template.write(ctx, into: &writer)
                    payload = writer.bytes
                    if let schema = target.schema, let document = try? JSONDocument(parsing: payload), let violation = schema.validate(document, document.root) {
                        return .deadLetter(reason: .target, message: "rule '\(rule.id)' built an invalid '\(target.type)' for '\(target.topic)': \(violation.pointer): \(violation.message)")
                    }
                } else {
                    payload = ctx.event.mode == .binary ? raw.value : Array(ctx.event.payloadBytes)
                }
                emissions.append(Emission(topic: target.topic, key: key, eventType: target.type, payload: payload, correlationID: ctx.workOrder?.id))
            }
            return .workflow(emissions)
        }
    }

    private func resolve(_ ti: Int, _ event: DecodedEvent) -> Resolution {
        let runtime = runtimes[ti]
        let eventIndex = runtime.topic.events.firstIndex { $0.typeBytes.elementsEqual(event.typeBytes) }
        let authorised = runtime.lane?.authorises(source: event.sourceBytes, type: event.typeBytes) ?? false
        let candidates = runtime.rules.filter { policy.rules[$0].matches(type: event.typeBytes, source: event.sourceBytes) }
        return Resolution(eventIndex: eventIndex, authorised: authorised, candidates: candidates)
    }

    private func explainValues(_ rule: CompiledRule) -> [(name: String, value: String)] {
        rule.explainTerms.map { ($0.0, $0.1(context).debugText) }
    }
}
