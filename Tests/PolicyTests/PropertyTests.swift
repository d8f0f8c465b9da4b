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

    /// One parser reused across documents of every size gives each the same value a fresh parser
    /// does, while earlier documents stay alive beside it (they share its node buffer until the
    /// next parse), and a dense array needs as many nodes as it has bytes.
    @Test func reusedParserKeepsEveryDocumentIntact() async {
        await propertyCheck(input: Gen<Int>.int(in: -100_000...100_000).array(of: 1...40).array(of: 1...8)) { seedLists in
            var parser = JSONParser()
            var kept: [(JSONDocument, JSONValue)] = []
            for seeds in seedLists {
                var rest = seeds[...]
                let value = buildValue(&rest, depth: 0)
                guard let document = try? parser.parse(value.jsonBytes) else { Issue.record("did not parse: \(value)"); return }
                kept.append((document, value))
                // A failed parse in between leaves the parser ready for the next one.
                #expect(throws: JSONParseError.self) { try parser.parse(Array(#"{"a":[1,2"#.utf8)) }
            }
            for (document, value) in kept { #expect(document.value(0) == value) }
            let dense = Array("[\(String(repeating: "0,", count: 4_999))0]".utf8)
            #expect((try? parser.parse(dense))?.count(0) == 5_000)
            #expect((try? parser.parse(Array("7".utf8)))?.value(0) == .number(7))
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

    /// The flat validator of the hot path agrees with the full `JSONSchema` validator on
    /// generated objects: it never accepts what the full one rejects, and it accepts everything
    /// the full one accepts unless a string holds escapes (then it defers, by contract).
    @Test func flatSchemaAgreesWithTheFullValidator() async throws {
        let schemaText = #"""
        { "type": "object", "required": ["id", "level"],
          "properties": {
            "id": { "type": "string", "minLength": 2, "maxLength": 5 },
            "mode": { "type": "string", "enum": ["auto", "manual", "é"] },
            "level": { "type": "number", "minimum": 0, "exclusiveMaximum": 10 },
            "count": { "type": "integer", "exclusiveMinimum": -1, "maximum": 3 },
            "flag": { "type": ["boolean", "null"] },
            "tags": { "type": "array", "minItems": 1, "maxItems": 2, "items": { "type": "string", "maxLength": 3 } },
            "inner": { "type": "object", "required": ["x"], "properties": { "x": { "type": "number" } }, "additionalProperties": false }
          },
          "additionalProperties": { "type": "number" } }
        """#
        let schemaDocument = try JSONDocument(parsing: Array(schemaText.utf8))
        let schema = try #require(JSONSchemaCompiler(file: "t.json", document: schemaDocument, sink: DiagnosticSink()).compile(schemaDocument.root))
        let flat = FlatSchema([schema])
        defer { flat.deallocate() }
        // Per field, values that pass and values that break a constraint (escapes on both sides).
        let fields: [(name: String, valid: [String], invalid: [String])] = [
            ("id", [#""ab""#, #""abcde""#, #""\u0041b""#, #""éé""#], [#""a""#, #""abcdef""#, "1", "null"]),
            ("mode", [#""auto""#, #""manual""#, #""é""#, #""\u00e9""#], [#""Auto""#, "2", "true"]),
            ("level", ["0", "9.99", "5e0"], ["10", "-0.5", #""1""#]),
            ("count", ["0", "3", "2.0"], ["-1", "4", "1.5", "null"]),
            ("flag", ["true", "false", "null"], ["0", #""true""#]),
            ("tags", [#"["a"]"#, #"["a","bcd"]"#], ["[]", #"["abcd"]"#, #"["a","b","c"]"#, "[1]", "{}"]),
            ("inner", [#"{"x":1}"#], ["{}", #"{"x":1,"y":2}"#, #"{"x":"1"}"#, "[]"]),
            ("extra", ["1", "-2.5"], [#""s""#]),
        ]
        await propertyCheck(input: Gen<Int>.int(in: 0...100_000).array(of: fields.count...fields.count)) { picks in
            // Per field: left out (1 in 16; required fields then fail), invalid (1 in 16) or valid.
            var members: [String] = []
            for (field, pick) in zip(fields, picks) {
                switch pick % 16 {
                case 0: continue
                case 1: members.append("\"\(field.name)\":" + field.invalid[pick / 16 % field.invalid.count])
                default: members.append("\"\(field.name)\":" + field.valid[pick / 16 % field.valid.count])
                }
            }
            let text = "{" + members.joined(separator: ",") + "}"
            guard let document = try? JSONDocument(parsing: Array(text.utf8)) else { Issue.record("generated invalid JSON: \(text)"); return }
            let fullAccepts = schema.validate(document, document.root) == nil
            let flatAccepts = document.withTape { flat.isValid($0, document.root, flat.roots[0]) }
            if flatAccepts { #expect(fullAccepts, "flat accepted what the full validator rejects: \(text)") }
            if fullAccepts && !text.contains("\\") { #expect(flatAccepts, "flat rejected a valid object without escapes: \(text)") }
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
