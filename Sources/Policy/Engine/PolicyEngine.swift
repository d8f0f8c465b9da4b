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
///
/// Confined to one lane thread: its mutable properties are `@exclusivity(unchecked)`, since the
/// runtime exclusivity checks on this per-event state cost ~4% of evaluation time.
public final class PolicyEngine {
    public let policy: LoadedPolicy
    @exclusivity(unchecked) private var decoder: EnvelopeDecoder
    @exclusivity(unchecked) private var skew: ClockSkewGuard
    private let context = EvalContext()
    private let runtimes: [TopicRuntime]
    private let topicIndex: [String: Int]
    @exclusivity(unchecked) private var lastTopic = ""
    @exclusivity(unchecked) private var lastTopicIndex = -1
    /// Per rule: state per key.
    private let states: [KeyStateTable]
    /// Per rule, per event type of its topic: the analytics route (empty for other outcomes).
    private let analyticsRoutes: [[AnalyticsRoute]]

    /// What the engine needs per catalog topic, precomputed (a class: one reference to follow).
    private final class TopicRuntime {
        let topic: Topic
        let lane: Lane?
        let rules: [Int]
        let schemas: [JSONSchema]
        /// The event types' schemas flattened for validation without reference counting.
        let flat: FlatSchema
        let cache = ResolutionCache()

        init(topic: Topic, lane: Lane?, rules: [Int]) {
            self.topic = topic
            self.lane = lane
            self.rules = rules
            self.schemas = topic.events.map(\.schema)
            self.flat = FlatSchema(schemas)
        }

        deinit { flat.deallocate() }
    }

    /// `clock` is the router's wall clock: an event dated more than `limits.maxClockSkew` ahead
    /// of it is still routed, but moves no window (tests inject a fixed clock).
    public init(policy: LoadedPolicy, clock: @escaping WallClock = systemWallClock) {
        self.policy = policy
        decoder = EnvelopeDecoder(limits: policy.catalog.limits)
        skew = ClockSkewGuard(maxSkewMs: policy.catalog.limits.maxClockSkewMs, clock: clock)
        runtimes = policy.catalog.topics.map { topic in
            TopicRuntime(topic: topic, lane: policy.catalog.lane(named: topic.lane),
                         rules: policy.rules.indices.filter { policy.rules[$0].topic == topic.name })
        }
        topicIndex = Dictionary(policy.catalog.topics.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        states = policy.rules.map { _ in KeyStateTable() }
        analyticsRoutes = policy.rules.map { rule in
            guard case .analytics(let topics) = rule.outcome, let topic = policy.catalog.topic(named: rule.topic) else { return [] }
            return topic.events.map { AnalyticsRoute(topics: topics, eventType: $0.type) }
        }
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

    private func deadLetter(_ reason: DeadLetterReason, _ message: String, event: DecodedEvent?, rule: String? = nil, workOrderID: String? = nil) -> Decision {
        Decision(policyVersion: policy.version, ruleID: rule, event: event, outcome: .deadLetter(reason: reason, message: message), workOrderID: workOrderID)
    }

    /// Runs `body` with the context pointing at `event` and `raw` (see `run`).
    private func withContext<T>(_ event: DecodedEvent, _ raw: RawEvent, _ body: (EvalContext) -> T) -> T {
        event.document.withTape { tape in
            withUnsafePointer(to: event) { eventPointer in
                withUnsafePointer(to: raw) { rawPointer in
                    let ctx = context
                    ctx.tape = tape
                    ctx.payload = event.payloadNode
                    ctx.eventPointer = eventPointer
                    ctx.rawPointer = rawPointer
                    defer {
                        ctx.tape = EvalContext.emptyTape
                        ctx.eventPointer = nil
                        ctx.rawPointer = nil
                        ctx.workOrder = nil
                        ctx.workOrderID = nil
                        ctx.window = nil
                    }
                    return body(ctx)
                }
            }
        }
    }

    /// The work order a rejected event names, by the `correlate:` of the first rule of its
    /// topic and type that finds one (whatever its source: a spoofed event belongs to the
    /// order it claims): its dead letter then joins the order's trail like its other events.
    /// Only dead letters pay for this.
    private func correlationOfRejected(_ topicRules: [Int], _ event: DecodedEvent, _ raw: RawEvent, _ lookup: some CorrelationLookup) -> String? {
        let type = Array(event.type.utf8)
        let candidates = topicRules.filter { policy.rules[$0].correlate != nil && policy.rules[$0].types.contains { $0.matches(type) } }
        guard !candidates.isEmpty else { return nil }
        return withContext(event, raw) { ctx in
            for index in candidates {
                guard let correlate = policy.rules[index].correlate else { continue }
                correlate.resolve(ctx, lookup)
                if let id = ctx.workOrderID { return id }
            }
            return nil
        }
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
        if trace != nil { trace?.checks.append("envelope: CloudEvents \(event.mode.rawValue) mode, id \(event.id), type \(event.type), source \(event.source)") }

        let runtime = runtimes[ti]
        let resolution = event.withTypeAndSource { type, source in
            let hash = ResolutionCache.hash(type, source)
            if let cached = runtime.cache.find(hash, type, source) { return cached }
            let resolved = resolve(runtime, type: type, source: source)
            runtime.cache.insert(hash, type, source, resolved)
            return resolved
        }
        guard resolution.authorised else {
            let topic = runtime.topic
            let message = "ce_source: source '\(event.source)' may not emit '\(event.type)' in lane '\(topic.lane)' (catalog authority)"
            trace?.checks.append("authority: \(message)")
            return deadLetter(.authority, message, event: event, workOrderID: correlationOfRejected(runtime.rules, event, raw, lookup))
        }
        guard let eventIndex = resolution.eventIndex else {
            let topic = runtime.topic
            let message = "ce_type: event type '\(event.type)' is not in the contract of topic '\(topic.name)' (declared: \(topic.events.map(\.type).joined(separator: ", ")))"
            trace?.checks.append("contract: \(message)")
            return deadLetter(.schema, message, event: event, workOrderID: correlationOfRejected(runtime.rules, event, raw, lookup))
        }
        if trace != nil { trace?.checks.append("authority: '\(event.source)' may emit '\(event.type)' in lane '\(runtime.topic.lane)'") }

        // The flat validator accepts only what the full one accepts; on doubt the full one decides.
        let violation = event.document.withTape { tape -> JSONSchema.Violation? in
            if runtime.flat.isValid(tape, event.payloadNode, runtime.flat.roots[eventIndex]) { return nil }
            return runtime.schemas[eventIndex].validate(tape, event.payloadNode)
        }
        if let violation {
            let topic = runtime.topic
            let file = topic.events[eventIndex].schemaFile
            let pointer = violation.pointer.isEmpty ? "/" : violation.pointer
            trace?.checks.append("schema: \(file): violation at \(pointer): \(violation.message)")
            return deadLetter(.schema, "schema violation at \(pointer): \(violation.message) (\(file))", event: event,
                              workOrderID: correlationOfRejected(runtime.rules, event, raw, lookup))
        }
        if trace != nil { trace?.checks.append("schema: valid against \(runtime.topic.events[eventIndex].schemaFile)") }

        // The context points at the event and its record for the duration of `decide`: setting
        // them as values would retain and release each of their buffers per event.
        let decided = withContext(event, raw) { _ in
            decide(resolution.candidates, raw, event.timeMs, lookup, trace: trace, eventIndex: eventIndex)
        }
        guard let decided else {
            trace?.checks.append("rules: none of \(resolution.candidates.count) candidate rule(s) matched")
            return deadLetter(.policy, "no rule matched event type '\(event.type)' on topic '\(runtime.topic.name)'", event: event,
                              workOrderID: correlationOfRejected(runtime.rules, event, raw, lookup))
        }
        return Decision(policyVersion: policy.version, ruleID: decided.rule.id, event: event, outcome: decided.outcome,
                        workOrderID: decided.workOrderID)
    }

    /// Tries the candidate rules in order; the first that matches decides.
    private func decide(_ candidates: [Int], _ raw: RawEvent, _ timeMs: Int64, _ lookup: some CorrelationLookup, trace: Trace?,
                        eventIndex: Int) -> (rule: CompiledRule, outcome: Outcome, workOrderID: String?)? {
        let ctx = context
        for ruleIndex in candidates {
            let rule = policy.rules[ruleIndex]
            ctx.workOrder = nil
            ctx.workOrderID = nil
            ctx.window = nil
            // Reasons are built only when explaining (interpolation costs more than the rule itself).
            func skip(_ reason: @autoclosure () -> String) {
                trace?.steps.append(.init(ruleID: rule.id, matched: false, reason: reason(), values: explainValues(rule)))
            }
            if let filter = rule.filter, !filter(ctx) { skip("match.where is false: \(rule.filterText ?? "")"); continue }
            rule.correlate?.resolve(ctx, lookup)
            var state: KeyState?
            if let path = rule.keyPath {
                // Same keys as the general path below, read from the tape without a String.
                let tape = ctx.tape
                guard let node = tape.lookup(path, from: ctx.payload) else { skip("the rule's key is missing in this event"); continue }
                switch tape.kind(node) {
                case .string where !tape.isEscaped(node): state = states[ruleIndex].state(bytes: UnsafeRawBufferPointer(tape.rawString(node)))
                case .string: state = states[ruleIndex].state(string: tape.string(node))
                case .number: state = states[ruleIndex].state(string: Value.number(tape.number(node)).debugText)
                default: skip("the rule's key is missing in this event"); continue
                }
            } else if let keyFn = rule.key {
                switch keyFn(ctx) {
                case .string(let s): state = states[ruleIndex].state(string: s)
                case .number(let n): state = states[ruleIndex].state(string: Value.number(n).debugText)
                default: skip("the rule's key is missing in this event"); continue
                }
            }
            if let window = rule.window, let state {
                guard skew.admits(timeMs) else {
                    skip("event time \(RFC3339.format(timeMs)) is more than \(skew.maxSkewMs) ms ahead of the router's clock (catalog limits.maxClockSkew): windows unchanged, the rule does not apply")
                    continue
                }
                let value = window.value?(ctx) ?? 0
                if !value.isFinite {
                    skip("window.value is missing in this event or not a finite number; it does not enter the window")
                    continue
                }
                let hit = window.hits?(ctx) ?? false
                let before = state.count
                guard state.add(time: timeMs, value: value, hit: hit, kind: window.kind) else {
                    skip("late event (older than the window's allowed lateness): windows unchanged, the rule does not apply")
                    continue
                }
                states[ruleIndex].entriesChanged(by: state.count &- before)
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
            return (rule, outcome(rule, ruleIndex, raw, eventIndex: eventIndex), ctx.workOrderID)
        }
        return nil
    }

    private func outcome(_ rule: CompiledRule, _ ruleIndex: Int, _ raw: RawEvent, eventIndex: Int) -> Outcome {
        let ctx = context
        switch rule.outcome {
        case .drop(let reason): return .drop(reason: reason)
        case .deadLetter(let reason, let message): return .deadLetter(reason: reason, message: message)
        case .analytics: return .analytics(analyticsRoutes[ruleIndex][eventIndex])
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
                    if let schema = target.schema {
                        // A payload that does not even parse must not pass unvalidated.
                        let document: JSONDocument
                        do { document = try JSONDocument(parsing: payload) } catch {
                            return .deadLetter(reason: .target, message: "rule '\(rule.id)' built invalid JSON for '\(target.topic)' (\(error))")
                        }
                        if let violation = schema.validate(document, document.root) {
                            return .deadLetter(reason: .target, message: "rule '\(rule.id)' built an invalid '\(target.type)' for '\(target.topic)': \(violation.pointer): \(violation.message)")
                        }
                    }
                } else {
                    payload = ctx.event.passThroughBody(of: raw)
                }
                emissions.append(Emission(topic: target.topic, key: key, eventType: target.type, payload: payload, correlationID: ctx.workOrderID))
            }
            return .workflow(emissions)
        }
    }

    private func resolve(_ runtime: TopicRuntime, type: UnsafeBufferPointer<UInt8>, source: UnsafeBufferPointer<UInt8>) -> Resolution {
        let eventIndex = runtime.topic.events.firstIndex { $0.typeBytes.elementsEqual(type) }
        let authorised = runtime.lane?.authorises(source: source, type: type) ?? false
        let candidates = runtime.rules.filter { policy.rules[$0].matches(type: type, source: source) }
        return Resolution(eventIndex: eventIndex, authorised: authorised, candidates: candidates)
    }

    private func explainValues(_ rule: CompiledRule) -> [(name: String, value: String)] {
        rule.explainTerms.map { ($0.0, $0.1(context).debugText) }
    }
}
