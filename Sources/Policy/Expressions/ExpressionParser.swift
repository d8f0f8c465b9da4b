/// Parses policy expressions.
///
/// Hand-written recursive descent rather than a parser package: it gives exact offsets for
/// every error (turned into file:line:column) and a tiny AST we compile into closures; no
/// listed package is a better fit (swift-parsing would add a dependency for ~200 lines).
///
/// Grammar (lowest precedence first):
///   or     := and ("or" and)*
///   and    := not ("and" not)*
///   not    := "not" not | cmp
///   cmp    := sum (("=="|"!="|"<"|"<="|">"|">=") sum | "not"? "in" list)?
///   sum    := product (("+"|"-") product)*
///   product:= unary (("*"|"/"|"%") unary)*
///   unary  := "-" unary | primary
///   primary:= number | string | true | false | null | "(" or ")" | list | "exists" "(" ref ")" | ref
///   ref    := ident ("." ident)*       list := "[" (or ("," or)*)? "]"
struct ExpressionParser {
    private let text: [UInt8]
    private var position = 0

    static func parse(_ source: String) throws(ExpressionError) -> Expression {
        let length = source.utf8.count
        guard length <= InputLimits.maxExpressionLength else {
            throw ExpressionError(offset: 0, message: "expression is \(length) bytes long, over the limit of \(InputLimits.maxExpressionLength) (InputLimits.maxExpressionLength)",
                                  hint: "split it into several rules or simpler conditions")
        }
        var parser = ExpressionParser(text: Array(source.utf8))
        parser.skipSpace()
        let expression = try parser.parseOr()
        parser.skipSpace()
        if parser.position < parser.text.count {
            throw ExpressionError(offset: parser.position, message: "unexpected '\(parser.rest)'", hint: "combine conditions with 'and' / 'or'")
        }
        return expression
    }

    private init(text: [UInt8]) { self.text = text }

    /// Open parentheses, brackets, `not`s and minus signs around the current position: the
    /// parser's recursion depth, bounded before it recurses.
    private var nesting = 0

    private mutating func enter(at offset: Int) throws(ExpressionError) {
        nesting += 1
        if nesting > InputLimits.maxExpressionDepth { throw Self.tooDeep(at: offset) }
    }

    private mutating func leave() { nesting -= 1 }

    /// A node, refused when its tree grows higher than the limit (long operator chains nest
    /// without recursing in the parser, but every later pass recurses over them).
    private static func make(_ node: Expression.Node, offset: Int) throws(ExpressionError) -> Expression {
        let expression = Expression(node: node, offset: offset)
        if expression.height > InputLimits.maxExpressionDepth { throw Self.tooDeep(at: offset) }
        return expression
    }

    private static func tooDeep(at offset: Int) -> ExpressionError {
        ExpressionError(offset: offset, message: "expression nested deeper than \(InputLimits.maxExpressionDepth) levels (InputLimits.maxExpressionDepth)",
                        hint: "split it into several rules or simpler conditions; each parenthesis, 'not', and operator in a chain counts one level")
    }

    private var rest: String { String(decoding: text[position...].prefix(12), as: UTF8.self) }

    private mutating func skipSpace() {
        while position < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[position]) { position += 1 }
    }

    private func peekWord() -> String? {
        var end = position
        while end < text.count, isIdentifier(text[end], first: end == position) { end += 1 }
        return end > position ? String(decoding: text[position..<end], as: UTF8.self) : nil
    }

    private func isIdentifier(_ b: UInt8, first: Bool) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || (!first && b >= 48 && b <= 57)
    }

    private mutating func keyword(_ word: String) -> Bool {
        skipSpace()
        guard peekWord() == word else { return false }
        position += word.utf8.count
        return true
    }

    private mutating func symbol(_ s: String) -> Bool {
        skipSpace()
        let bytes = Array(s.utf8)
        guard text.count - position >= bytes.count, Array(text[position..<position + bytes.count]) == bytes else { return false }
        // Do not read "<" out of "<=", nor "=" alone.
        if bytes.count == 1, position + 1 < text.count, text[position + 1] == UInt8(ascii: "="), "<>!=".utf8.contains(bytes[0]) { return false }
        position += bytes.count
        return true
    }

    private mutating func parseOr() throws(ExpressionError) -> Expression {
        var left = try parseAnd()
        while true {
            let at = position
            guard keyword("or") else { return left }
            left = try Self.make(.binary(.or, left, try parseAnd()), offset: at)
        }
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var left = try parseNot()
        while true {
            let at = position
            guard keyword("and") else { return left }
            left = try Self.make(.binary(.and, left, try parseNot()), offset: at)
        }
    }

    private mutating func parseNot() throws(ExpressionError) -> Expression {
        skipSpace()
        let at = position
        if keyword("not") {
            try enter(at: at)
            defer { leave() }
            return try Self.make(.not(try parseNot()), offset: at)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        let left = try parseSum()
        skipSpace()
        let at = position
        for op in [BinaryOperator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater] where symbol(op.rawValue) {
            return try Self.make(.binary(op, left, try parseSum()), offset: at)
        }
        if symbol("=") { throw ExpressionError(offset: at, message: "'=' is not an operator", hint: "use '==' to compare") }
        let saved = position
        let negated = keyword("not")
        if keyword("in") {
            skipSpace()
            let listAt = position
            let list = try parsePrimary()
            guard case .list(let items) = list.node else { throw ExpressionError(offset: listAt, message: "'in' needs a list", hint: "write e.g. payload.state in [\"down\", \"fault\"]") }
            return try Self.make(.membership(left, items, negated: negated), offset: at)
        }
        position = saved
        return left
    }

    private mutating func parseSum() throws(ExpressionError) -> Expression {
        var left = try parseProduct()
        while true {
            skipSpace()
            let at = position
            if symbol("+") { left = try Self.make(.binary(.add, left, try parseProduct()), offset: at) }
            else if symbol("-") { left = try Self.make(.binary(.subtract, left, try parseProduct()), offset: at) }
            else { return left }
        }
    }

    private mutating func parseProduct() throws(ExpressionError) -> Expression {
        var left = try parseUnary()
        while true {
            skipSpace()
            let at = position
            if symbol("*") { left = try Self.make(.binary(.multiply, left, try parseUnary()), offset: at) }
            else if symbol("/") { left = try Self.make(.binary(.divide, left, try parseUnary()), offset: at) }
            else if symbol("%") { left = try Self.make(.binary(.remainder, left, try parseUnary()), offset: at) }
            else { return left }
        }
    }

    private mutating func parseUnary() throws(ExpressionError) -> Expression {
        skipSpace()
        let at = position
        if symbol("-") {
            try enter(at: at)
            defer { leave() }
            return try Self.make(.negate(try parseUnary()), offset: at)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        skipSpace()
        let at = position
        guard position < text.count else { throw ExpressionError(offset: at, message: "expression ends too early", hint: "complete the expression after the last operator") }
        let b = text[position]
        if b >= 48 && b <= 57 || (b == UInt8(ascii: ".") && position + 1 < text.count && text[position + 1] >= 48 && text[position + 1] <= 57) {
            var end = position
            while end < text.count, (text[end] >= 48 && text[end] <= 57) || text[end] == UInt8(ascii: ".") || text[end] | 0x20 == UInt8(ascii: "e")
                    || ((text[end] == UInt8(ascii: "+") || text[end] == UInt8(ascii: "-")) && end > 0 && text[end - 1] | 0x20 == UInt8(ascii: "e")) { end += 1 }
            let literal = String(decoding: text[position..<end], as: UTF8.self)
            guard let value = Double(literal) else { throw ExpressionError(offset: at, message: "invalid number '\(literal)'") }
            position = end
            return try Self.make(.number(value), offset: at)
        }
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
            position += 1
            var bytes: [UInt8] = []
            while position < text.count, text[position] != b {
                if text[position] == UInt8(ascii: "\\"), position + 1 < text.count { position += 1 }
                bytes.append(text[position])
                position += 1
            }
            guard position < text.count else { throw ExpressionError(offset: at, message: "unterminated string literal", hint: "close it with \(Character(Unicode.Scalar(b)))") }
            position += 1
            return try Self.make(.string(String(decoding: bytes, as: UTF8.self)), offset: at)
        }
        if symbol("(") {
            try enter(at: at)
            defer { leave() }
            let inner = try parseOr()
            guard symbol(")") else { throw ExpressionError(offset: position, message: "expected ')'", hint: "parentheses must balance") }
            return inner
        }
        if symbol("[") {
            try enter(at: at)
            defer { leave() }
            var items: [Expression] = []
            if !symbol("]") {
                repeat { items.append(try parseOr()) } while symbol(",")
                guard symbol("]") else { throw ExpressionError(offset: position, message: "expected ']' or ','") }
            }
            return try Self.make(.list(items), offset: at)
        }
        guard let word = peekWord() else { throw ExpressionError(offset: at, message: "unexpected '\(rest)'", hint: "expected a number, a string in quotes, true/false/null, a list or a name like payload.value") }
        switch word {
        case "true": position += 4; return try Self.make(.bool(true), offset: at)
        case "false": position += 5; return try Self.make(.bool(false), offset: at)
        case "null": position += 4; return try Self.make(.null, offset: at)
        case "exists":
            position += 6
            guard symbol("(") else { throw ExpressionError(offset: position, message: "expected '(' after exists", hint: "write exists(payload.field)") }
            skipSpace()
            let refAt = position
            let reference = try parseReference()
            guard symbol(")") else { throw ExpressionError(offset: position, message: "expected ')'") }
            return try Self.make(.exists(reference), offset: refAt)
        case "and", "or", "not", "in":
            throw ExpressionError(offset: at, message: "'\(word)' needs an operand before it", hint: "check for a missing comparison")
        default:
            return try Self.make(.reference(try parseReference()), offset: at)
        }
    }

    private mutating func parseReference() throws(ExpressionError) -> Reference {
        let at = position
        var parts: [String] = []
        repeat {
            guard let word = peekWord() else { throw ExpressionError(offset: position, message: "expected a name") }
            position += word.utf8.count
            parts.append(word)
        } while position < text.count && text[position] == UInt8(ascii: ".") && { position += 1; return true }()
        let roots = ["payload", "event", "workorder", "window"]
        func field<F: RawRepresentable<String> & CaseIterable>(_ type: F.Type) throws(ExpressionError) -> F {
            guard parts.count == 2, let f = F(rawValue: parts[1]) else {
                let name = parts.dropFirst().joined(separator: ".")
                throw ExpressionError(offset: at, message: "unknown field '\(name)' of \(parts[0])", hint: Suggest.hint(for: name, in: F.allCases.map(\.rawValue)))
            }
            return f
        }
        switch parts[0] {
        case "payload":
            guard parts.count > 1 else { throw ExpressionError(offset: at, message: "'payload' needs a field", hint: "write payload.<field>") }
            return .payload(Array(parts.dropFirst()))
        case "event": return .event(try field(Reference.EventField.self))
        case "workorder": return .workOrder(try field(Reference.WorkOrderField.self))
        case "window": return .window(try field(Reference.WindowField.self))
        default:
            throw ExpressionError(offset: at, message: "unknown name '\(parts[0])'", hint: Suggest.hint(for: parts[0], in: roots) + "; string literals need quotes")
        }
    }
}
