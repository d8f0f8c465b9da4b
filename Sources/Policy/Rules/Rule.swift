/// How often a rule fires while its condition stays true for a key.
public enum TriggerMode: String, Sendable, CaseIterable {
    /// Every event for which the condition is true (default).
    case level
    /// Once per episode per key: fires when the condition becomes true, re-arms when it is false.
    case edge
}

/// A rule compiled from policy.yaml: match → (correlate, key, window) → condition → outcome.
final class CompiledRule: Sendable {
    let id: String
    let description: String?
    let location: SourceLocation
    let topic: String
    let types: [Glob]
    let sources: [Glob]
    /// `match.where`: a stateless filter; events failing it never touch the rule's state.
    let filter: PredicateFn?
    let filterText: String?
    let correlate: CorrelationSpec?
    let key: ValueFn?
    /// Set when `key` is a plain payload field (`payload.asset`): its path as UTF-8 keys.
    let keyPath: FieldPath?
    let window: WindowSpec?
    let condition: PredicateFn?
    let conditionText: String?
    let trigger: TriggerMode
    let outcome: RuleOutcome
    /// References used by the rule, evaluated for `policy explain`.
    let explainTerms: [(String, ValueFn)]

    init(id: String, description: String?, location: SourceLocation, topic: String, types: [Glob], sources: [Glob], filter: PredicateFn?,
         filterText: String?, correlate: CorrelationSpec?, key: ValueFn?, keyPath: FieldPath? = nil, window: WindowSpec?, condition: PredicateFn?, conditionText: String?,
         trigger: TriggerMode, outcome: RuleOutcome, explainTerms: [(String, ValueFn)]) {
        self.id = id
        self.description = description
        self.location = location
        self.topic = topic
        self.types = types
        self.sources = sources
        self.filter = filter
        self.filterText = filterText
        self.correlate = correlate
        self.key = key
        self.keyPath = keyPath
        self.window = window
        self.condition = condition
        self.conditionText = conditionText
        self.trigger = trigger
        self.outcome = outcome
        self.explainTerms = explainTerms
    }

    /// True when the rule applies to every event it matches by topic/type/source.
    var isUnconditional: Bool { filter == nil && condition == nil && window == nil && trigger == .level }

    func matches(type: some Collection<UInt8>, source: some Collection<UInt8>) -> Bool {
        types.contains { $0.matches(type) } && (sources.isEmpty || sources.contains { $0.matches(source) })
    }
}

struct WindowSpec: Sendable {
    let kind: WindowKind
    /// The observed number (`value:`); events without it do not enter the window.
    let value: NumberFn?
    /// `hits:`: counted in `window.hits` ("N of the last M").
    let hits: PredicateFn?
}

enum RuleOutcome: Sendable {
    case workflow([TargetSpec])
    case analytics([String])
    case drop(String)
    case deadLetter(DeadLetterReason, String)

    var kind: String {
        switch self {
        case .workflow: "workflow"
        case .analytics: "analytics"
        case .drop: "drop"
        case .deadLetter: "dead-letter"
        }
    }

    var targetTopics: [String] {
        switch self {
        case .workflow(let targets): targets.map(\.topic)
        case .analytics(let topics): topics
        default: []
        }
    }
}

/// One workflow target: topic, event type, key and the payload mapping.
struct TargetSpec: Sendable {
    let topic: String
    let type: String
    /// nil keeps the source event's key.
    let key: ValueFn?
    /// nil passes the source payload through unchanged.
    let payload: PayloadTemplate?
    let schema: JSONSchema?
}

/// A target payload built from expressions; objects nest as in the YAML.
indirect enum PayloadTemplate: Sendable {
    case object([(name: String, value: PayloadTemplate)])
    case expression(ValueFn)

    /// Writes the JSON; fields whose value is missing are left out.
    func write(_ ctx: EvalContext, into writer: inout JSONWriter) {
        switch self {
        case .expression(let f): Self.write(f(ctx), ctx, into: &writer)
        case .object(let fields):
            writer.raw("{")
            var first = true
            for field in fields {
                if case .expression(let f) = field.value, case .missing = f(ctx) { continue }
                if !first { writer.raw(",") }
                first = false
                writer.string(field.name)
                writer.raw(":")
                field.value.write(ctx, into: &writer)
            }
            writer.raw("}")
        }
    }

    private static func write(_ value: Value, _ ctx: EvalContext, into writer: inout JSONWriter) {
        switch value {
        case .missing, .null: writer.raw("null")
        case .bool(let b): writer.raw(b ? "true" : "false")
        case .number(let n): writer.number(n)
        case .string(let s): writer.string(s)
        case .node(let node): writer.raw(bytes: ctx.event.document.rawSlice(node))
        }
    }
}
