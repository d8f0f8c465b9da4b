/// What an expression may refer to, and the payload types it is checked against.
struct ExpressionScope {
    /// Schemas of every event type the rule can see; the payload type of a field is checked in each.
    var schemas: [JSONSchema]
    var hasWorkOrder: Bool
    var hasWindow: Bool
    var hasWindowHits: Bool
}

/// Type-checks expressions against the JSON Schemas at load time and compiles them into
/// closures specialised by static type (numbers as `Double` with NaN for missing, predicates as
/// `Bool`), so evaluation does no dynamic dispatch on types and no dictionary lookups.
///
/// Every pass here recurses over the tree, and the compiled closures call each other as deep
/// as the tree is high: all of it is bounded by `ExpressionParser`, which refuses trees higher
/// than `InputLimits.maxExpressionDepth`.
struct ExpressionCompiler {
    let scope: ExpressionScope

    // MARK: Type checking

    func type(of e: Expression) throws(ExpressionError) -> ValueType {
        switch e.node {
        case .number: return .number
        case .string: return .string
        case .bool: return .bool
        case .null: return .null
        case .list: throw ExpressionError(offset: e.offset, message: "a list can only follow 'in'")
        case .reference(let r): return try type(of: r, at: e.offset)
        case .exists(let r):
            if case .payload = r { _ = try type(of: r, at: e.offset); return .bool }
            throw ExpressionError(offset: e.offset, message: "exists() takes a payload field", hint: "write exists(payload.<field>)")
        case .not(let inner):
            try expect(inner, .bool, "'not' needs a true/false operand")
            return .bool
        case .negate(let inner):
            try expect(inner, .number, "'-' needs a number")
            return .number
        case .membership(let left, let items, _):
            let leftType = try type(of: left)
            for item in items {
                let itemType = try type(of: item)
                guard leftType.compatible(with: itemType) else {
                    throw ExpressionError(offset: item.offset, message: "list item is \(itemType) but the left side of 'in' is \(leftType)", hint: "compare values of the same type")
                }
            }
            return .bool
        case .binary(let op, let l, let r):
            switch op {
            case .and, .or:
                try expect(l, .bool, "'\(op.rawValue)' needs true/false operands, this is not a condition")
                try expect(r, .bool, "'\(op.rawValue)' needs true/false operands, this is not a condition")
                return .bool
            case .equal, .notEqual:
                let (lt, rt) = (try type(of: l), try type(of: r))
                guard lt.compatible(with: rt) else {
                    throw ExpressionError(offset: e.offset, message: "cannot compare \(lt) with \(rt)", hint: "\(describe(l)) is \(lt) and \(describe(r)) is \(rt); string literals need quotes, numbers must not have them")
                }
                return .bool
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let (lt, rt) = (try type(of: l), try type(of: r))
                guard lt.compatible(with: rt), [.number, .string, .any].contains(lt), [.number, .string, .any].contains(rt) else {
                    throw ExpressionError(offset: e.offset, message: "cannot order \(lt) and \(rt) with '\(op.rawValue)'", hint: "ordering works on two numbers or two strings")
                }
                return .bool
            default:
                try expect(l, .number, "'\(op.rawValue)' needs numbers")
                try expect(r, .number, "'\(op.rawValue)' needs numbers")
                return .number
            }
        }
    }

    private func expect(_ e: Expression, _ wanted: ValueType, _ message: String) throws(ExpressionError) {
        let actual = try type(of: e)
        guard actual == wanted || actual == .any else {
            throw ExpressionError(offset: e.offset, message: "\(message): \(describe(e)) is \(actual)", hint: wanted == .bool ? "compare it, e.g. \(describe(e)) == …" : nil)
        }
    }

    private func describe(_ e: Expression) -> String {
        switch e.node {
        case .reference(let r): r.description
        case .number(let n): Value.number(n).debugText
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        default: "this expression"
        }
    }

    func type(of r: Reference, at offset: Int) throws(ExpressionError) -> ValueType {
        switch r {
        case .event: return .string
        case .workOrder(let f):
            guard scope.hasWorkOrder else {
                throw ExpressionError(offset: offset, message: "\(r) is used but the rule does not correlate", hint: "add 'correlate: payload.<asset field>' to the rule")
            }
            return f == .requiredRatePerMinute ? .number : .string
        case .window(let f):
            guard scope.hasWindow else { throw ExpressionError(offset: offset, message: "\(r) is used but the rule has no window", hint: "add a 'window:' block with 'over:' or 'last:'") }
            if f == .hits, !scope.hasWindowHits { throw ExpressionError(offset: offset, message: "window.hits needs 'hits:' in the window", hint: "add 'hits: <condition>' to count matching events") }
            return .number
        case .payload(let path):
            if scope.schemas.isEmpty { return .any }
            var found: ValueType?
            var known: [String] = []
            for schema in scope.schemas {
                var current: JSONSchema? = schema
                var type: ValueType? = nil
                for (depth, name) in path.enumerated() {
                    guard let s = current else { break }
                    if let property = s.property(name) {
                        current = property.schema
                        if depth == path.count - 1 { type = ValueType(property.schema.types) }
                    } else {
                        if depth == 0 { known += s.properties.map(\.name) }
                        if case .some(.none) = s.additional { current = nil } else { type = .any; current = nil }
                        break
                    }
                }
                if let type { found = found.map { $0 == type ? $0 : .any } ?? type }
            }
            guard let found else {
                let name = path.joined(separator: ".")
                throw ExpressionError(offset: offset, message: "payload has no field '\(name)' in the schema of the matched event types",
                                      hint: Suggest.closest(to: name, in: known).map { "did you mean 'payload.\($0)'?" } ?? "known fields: \(Array(Set(known)).sorted().joined(separator: ", "))")
            }
            return found
        }
    }

    // MARK: Compilation

    func predicate(_ e: Expression) -> PredicateFn {
        switch e.node {
        case .bool(let b): return { _ in b }
        case .not(let inner):
            let p = predicate(inner)
            return { !p($0) }
        case .exists(.payload(let path)):
            let keys = FieldPath(path)
            return { $0.payloadNode(keys) != nil }
        case .binary(.and, let l, let r):
            let (a, b) = (predicate(l), predicate(r))
            return { a($0) && b($0) }
        case .binary(.or, let l, let r):
            let (a, b) = (predicate(l), predicate(r))
            return { a($0) || b($0) }
        case .binary(let op, let l, let r) where op.isComparison:
            return comparison(op, l, r)
        case .membership(let left, let items, let negated):
            let m = membership(left, items)
            guard negated else { return m.test }
            let (test, present) = (m.test, m.present)
            // `not in` is false for a missing left side, like every comparison with a missing value.
            return { ctx in !test(ctx) && present(ctx) }
        default:
            let v = value(e)
            return { if case .bool(let b) = v($0) { b } else { false } }
        }
    }

    private func comparison(_ op: BinaryOperator, _ l: Expression, _ r: Expression) -> PredicateFn {
        let lt = (try? type(of: l)) ?? .any, rt = (try? type(of: r)) ?? .any
        if lt == .number || rt == .number {
            let (a, b) = (number(l), number(r))
            switch op {
            case .equal: return { a($0) == b($0) }
            case .notEqual: return { let (x, y) = (a($0), b($0)); return !x.isNaN && !y.isNaN && x != y }
            case .less: return { a($0) < b($0) }
            case .lessOrEqual: return { a($0) <= b($0) }
            case .greater: return { a($0) > b($0) }
            default: return { a($0) >= b($0) }
            }
        }
        // payload.field == "literal": compare the JSON bytes directly, no String is created.
        if op == .equal || op == .notEqual, let (path, literal) = fieldAndLiteral(l, r) {
            let keys = FieldPath(path)
            let bytes = Array(literal.utf8)
            let wantEqual = op == .equal
            return { ctx in
                guard let node = ctx.payloadNode(keys) else { return false }
                return ctx.tape.stringEquals(node, bytes) == wantEqual
            }
        }
        let (a, b) = (value(l), value(r))
        switch op {
        case .equal: return { Value.equal(a($0), b($0)) == true }
        case .notEqual: return { Value.equal(a($0), b($0)) == false }
        default:
            return { ctx in
                switch (a(ctx), b(ctx)) {
                case (.number(let x), .number(let y)): return Self.order(op, x, y)
                case (.string(let x), .string(let y)): return Self.order(op, x, y)
                default: return false
                }
            }
        }
    }

    private static func order<T: Comparable>(_ op: BinaryOperator, _ x: T, _ y: T) -> Bool {
        switch op {
        case .less: x < y
        case .lessOrEqual: x <= y
        case .greater: x > y
        default: x >= y
        }
    }

    private func fieldAndLiteral(_ l: Expression, _ r: Expression) -> ([String], String)? {
        switch (l.node, r.node) {
        case (.reference(.payload(let p)), .string(let s)), (.string(let s), .reference(.payload(let p))): (p, s)
        default: nil
        }
    }

    private struct Membership { let test: PredicateFn; let present: PredicateFn }

    private func membership(_ left: Expression, _ items: [Expression]) -> Membership {
        let leftType = (try? type(of: left)) ?? .any
        if leftType == .number, items.allSatisfy({ if case .number = $0.node { true } else { false } }) {
            let n = number(left)
            let set = items.compactMap { if case .number(let v) = $0.node { v } else { nil } }
            return Membership(test: { set.contains(n($0)) }, present: { !n($0).isNaN })
        }
        if case .reference(.payload(let path)) = left.node, items.allSatisfy({ if case .string = $0.node { true } else { false } }) {
            let keys = FieldPath(path)
            let literals = items.compactMap { if case .string(let s) = $0.node { Array(s.utf8) } else { nil } }
            return Membership(test: { ctx in
                guard let node = ctx.payloadNode(keys) else { return false }
                let tape = ctx.tape
                return literals.contains { tape.stringEquals(node, $0) }
            }, present: { $0.payloadNode(keys) != nil })
        }
        let v = value(left)
        let candidates = items.map { value($0) }
        return Membership(test: { ctx in
            let x = v(ctx)
            return candidates.contains { Value.equal(x, $0(ctx)) == true }
        }, present: { if case .missing = v($0) { false } else { true } })
    }

    func number(_ e: Expression) -> NumberFn {
        switch e.node {
        case .number(let n): return { _ in n }
        case .negate(let inner):
            let f = number(inner)
            return { -f($0) }
        case .reference(.payload(let path)):
            let keys = FieldPath(path)
            return { ctx in
                guard let node = ctx.payloadNode(keys), ctx.tape.kind(node) == .number else { return .nan }
                return ctx.tape.number(node)
            }
        case .reference(.workOrder(.requiredRatePerMinute)):
            return { $0.workOrder?.requiredRatePerMinute ?? .nan }
        case .reference(.window(let field)):
            switch field {
            case .count: return { Double($0.window?.count ?? 0) }
            case .sum: return { $0.window?.sum ?? .nan }
            case .avg: return { $0.window?.average ?? .nan }
            case .min: return { $0.window?.minimum ?? .nan }
            case .max: return { $0.window?.maximum ?? .nan }
            case .hits: return { Double($0.window?.hits ?? 0) }
            }
        case .binary(let op, let l, let r) where op.isArithmetic:
            let (a, b) = (number(l), number(r))
            switch op {
            case .add: return { a($0) + b($0) }
            case .subtract: return { a($0) - b($0) }
            case .multiply: return { a($0) * b($0) }
            case .divide: return { let d = b($0); return d == 0 ? .nan : a($0) / d }
            default: return { let d = b($0); return d == 0 ? .nan : a($0).truncatingRemainder(dividingBy: d) }
            }
        default:
            let v = value(e)
            return { v($0).number }
        }
    }

    func value(_ e: Expression) -> ValueFn {
        switch e.node {
        case .number(let n): return { _ in .number(n) }
        case .string(let s): return { _ in .string(s) }
        case .bool(let b): return { _ in .bool(b) }
        case .null: return { _ in .null }
        case .list: return { _ in .missing }
        case .reference(.payload(let path)):
            let keys = FieldPath(path)
            return { ctx in ctx.payloadNode(keys).map { ctx.value(ofNode: $0) } ?? .missing }
        case .reference(.event(let field)):
            return { ctx in
                let event = ctx.event
                switch field {
                case .id: return .string(event.id)
                case .source: return .string(event.source)
                case .type: return .string(event.type)
                case .subject: return event.subject.map { .string($0) } ?? .missing
                case .time: return .string(event.time ?? RFC3339.format(event.timeMs))
                case .topic: return .string(ctx.topic)
                case .key: return ctx.key.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .missing
                }
            }
        case .reference(.workOrder(let field)):
            return { ctx in
                guard let order = ctx.workOrder else { return .missing }
                switch field {
                case .id: return .string(order.id)
                case .asset: return .string(order.asset)
                case .line: return .string(order.line)
                case .product: return .string(order.product)
                case .requiredRatePerMinute: return .number(order.requiredRatePerMinute)
                case .status: return .string(order.status)
                case .shipmentId: return order.shipmentID.map { .string($0) } ?? .missing
                case .dueTime: return order.dueTime.map { .string($0) } ?? .missing
                }
            }
        case .reference(.window), .negate, .binary(.add, _, _), .binary(.subtract, _, _), .binary(.multiply, _, _), .binary(.divide, _, _), .binary(.remainder, _, _):
            let n = number(e)
            return { let x = n($0); return x.isNaN ? .missing : .number(x) }
        case .not, .exists, .binary, .membership:
            let p = predicate(e)
            return { .bool(p($0)) }
        }
    }
}

extension ValueType {
    init(_ types: JSONSchema.Types) {
        let t = types.subtracting(.null)
        switch t {
        case .number, .integer, [.number, .integer]: self = .number
        case .string: self = .string
        case .boolean: self = .bool
        case .object: self = .object
        case .array: self = .array
        case []: self = .null
        default: self = .any
        }
    }
}
