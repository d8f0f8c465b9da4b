import Foundation
import PropertyBased
import Testing
@testable import Policy

@Suite struct PropertyTests {
    /// Any JSON value we write parses back to the same value. Values are built from a list of
    /// random integers (strings cover quotes, backslashes, control characters and non-ASCII).
    @Test func jsonWriterAndParserRoundTrip() async {
        await propertyCheck(input: Gen<Int>.int(in: -100_000...100_000).array(of: 1...40)) { seeds in
            var rest = seeds[...]
            let value = buildValue(&rest, depth: 0)
            let parsed = try? JSONDocument(parsing: value.jsonBytes)
            #expect(parsed?.value(0) == value)
        }
    }

    /// Expression arithmetic agrees with Swift's on integers (kept small so doubles are exact).
    @Test func expressionArithmeticMatchesSwift() async {
        let small = Gen<Int>.int(in: -1000...1000)
        await propertyCheck(input: small, small, small) { a, b, c in
            let text = "\(a) + \(b) * \(c) - (\(a) - \(c)) * 2"
            let expected = Double(a + b * c - (a - c) * 2)
            #expect(evaluateNumber(text) == expected)
            if b != 0 { #expect(evaluateNumber("\(a) % \(b)") == Double(a % b)) }
        }
    }
}

/// Evaluates a constant numeric expression through parser, type checker and compiler.
func evaluateNumber(_ text: String) -> Double? {
    guard let e = try? ExpressionParser.parse(text) else { return nil }
    let compiler = ExpressionCompiler(scope: ExpressionScope(schemas: [], hasWorkOrder: false, hasWindow: false, hasWindowHits: false))
    guard (try? compiler.type(of: e)) == .number else { return nil }
    return compiler.number(e)(EvalContext())
}

/// Deterministically turns integers into a JSON value (objects and arrays nest up to depth 3).
func buildValue(_ seeds: inout ArraySlice<Int>, depth: Int) -> JSONValue {
    guard let n = seeds.popFirst() else { return .null }
    let pool: [Character] = ["a", "Z", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "😀", "€", " "]
    func text() -> String { String((0..<(abs(n) % 6)).map { pool[(abs(n) / 7 + $0 * 3) % pool.count] }) }
    switch abs(n) % 7 {
    case 0: return .number(Double(n))
    case 1: return .number(Double(n) / 64)
    case 2: return .bool(n % 2 == 0)
    case 3: return .string(text())
    case 4 where depth < 3: return .array((0..<(abs(n) % 4)).map { _ in buildValue(&seeds, depth: depth + 1) })
    case 5 where depth < 3: return .object((0..<(abs(n) % 4)).map { i in .init(name: text() + String(i), value: buildValue(&seeds, depth: depth + 1)) })
    default: return .null
    }
}
