/// A runtime value of an expression. `missing` is an absent field or work order: every
/// comparison with it is false (including `!=`), so rules never fire on absent data by accident.
enum Value: Sendable {
    case missing
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// An object or array inside the payload, passed through as raw JSON text.
    case node(Int)

    var number: Double { if case .number(let n) = self { n } else { .nan } }

    static func equal(_ a: Value, _ b: Value) -> Bool? {
        switch (a, b) {
        case (.missing, _), (_, .missing): nil
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        default: false
        }
    }

    var debugText: String {
        switch self {
        case .missing: "missing"
        case .null: "null"
        case .bool(let b): String(b)
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): "\"\(s)\""
        case .node: "{…}"
        }
    }
}

typealias ValueFn = @Sendable (EvalContext) -> Value
/// Numeric evaluation; NaN stands for a missing value.
typealias NumberFn = @Sendable (EvalContext) -> Double
typealias PredicateFn = @Sendable (EvalContext) -> Bool
