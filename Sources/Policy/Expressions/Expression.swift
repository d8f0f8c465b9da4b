/// The syntax tree of a policy expression (`payload.value < 0.9 * workorder.requiredRatePerMinute`).
struct Expression: Sendable {
    indirect enum Node: Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case null
        case reference(Reference)
        case not(Expression)
        case negate(Expression)
        case binary(BinaryOperator, Expression, Expression)
        case membership(Expression, [Expression], negated: Bool)
        case exists(Reference)
        case list([Expression])
    }

    var node: Node
    /// Offset of the first character of this node in the expression text (for diagnostics).
    var offset: Int
    /// Levels of this tree (1 for a leaf). The parser refuses trees higher than
    /// `InputLimits.maxExpressionDepth`, which bounds every recursion over them: type checking,
    /// compiling, the compiled closures and deallocation.
    let height: Int

    init(node: Node, offset: Int) {
        self.node = node
        self.offset = offset
        let below = switch node {
        case .number, .string, .bool, .null, .reference, .exists: 0
        case .not(let x), .negate(let x): x.height
        case .binary(_, let l, let r): max(l.height, r.height)
        case .membership(let l, let items, _): items.reduce(l.height) { max($0, $1.height) }
        case .list(let items): items.reduce(0) { max($0, $1.height) }
        }
        height = below + 1
    }
}

enum BinaryOperator: String, Sendable {
    case or, and
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"

    var isComparison: Bool { [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual].contains(self) }
    var isArithmetic: Bool { [.add, .subtract, .multiply, .divide, .remainder].contains(self) }
}

/// A name an expression can read.
enum Reference: Sendable, Equatable, CustomStringConvertible {
    /// A payload field path (`payload.line.id`).
    case payload([String])
    case event(EventField)
    case workOrder(WorkOrderField)
    case window(WindowField)

    enum EventField: String, Sendable, CaseIterable { case id, source, type, subject, time, topic, key }
    enum WorkOrderField: String, Sendable, CaseIterable { case id, asset, line, product, requiredRatePerMinute, status, shipmentId, dueTime }
    enum WindowField: String, Sendable, CaseIterable { case count, sum, avg, min, max, hits }

    var description: String {
        switch self {
        case .payload(let path): "payload." + path.joined(separator: ".")
        case .event(let f): "event.\(f.rawValue)"
        case .workOrder(let f): "workorder.\(f.rawValue)"
        case .window(let f): "window.\(f.rawValue)"
        }
    }
}

/// Static types for load-time checking, derived from JSON Schema property types.
enum ValueType: String, Sendable, CustomStringConvertible {
    case number, string, bool, null, object, array, any
    var description: String { rawValue }

    func compatible(with other: ValueType) -> Bool {
        self == other || self == .any || other == .any || self == .null || other == .null
    }
}

/// A parse or type error inside an expression, with the offset into its text.
struct ExpressionError: Error, Sendable {
    var offset: Int
    var message: String
    var hint: String?
}
