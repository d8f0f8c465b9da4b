import Foundation

/// Compiles a schema file (parsed with `JSONParser`) into a `JSONSchema`, reporting
/// unsupported keywords and wrong keyword values with the file's line and column.
struct JSONSchemaCompiler {
    let file: String
    let document: JSONDocument
    let sink: DiagnosticSink

    static let keywords = ["type", "required", "properties", "additionalProperties", "enum", "const", "minimum", "maximum",
                           "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "items", "minItems",
                           "maxItems", "format", "$schema", "$id", "title", "description", "examples"]
    /// `minLength` ... `maxItems`: no event can be longer than `maxEventBytes` anyway.
    static let countRange = 0...(1 << 30)

    /// Loads `url` and compiles it; nil (with diagnostics) when it cannot be used.
    static func load(url: URL, displayPath: String, sink: DiagnosticSink) -> JSONSchema? {
        let data: [UInt8]
        switch TopicsFile.bytes(url) {
        case .success(let bytes): data = bytes
        case .failure(.missing):
            sink.error(displayPath, 1, 1, "schema file not found", hint: "create it or fix the 'schema:' path in catalog.yaml (paths are relative to the Topics directory)")
            return nil
        case .failure(let error):
            TopicsFile.report(error, file: displayPath, sink: sink)
            return nil
        }
        // The parser bounds nesting (64 levels), and with it every recursion below.
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: data)
        } catch {
            let (line, column) = JSONText.lineColumn(in: data, offset: error.offset)
            sink.error(displayPath, line, column, "invalid JSON: \(error.message)", hint: "schemas are JSON files; check commas, quotes and brackets here")
            return nil
        }
        return JSONSchemaCompiler(file: displayPath, document: document, sink: sink).compile(document.root, isRoot: true)
    }

    func error(_ node: Int, _ message: String, hint: String? = nil) {
        let (line, column) = document.lineColumn(ofOffset: document.offset(node))
        sink.error(file, line, column, message, hint: hint)
    }

    /// Only a root schema keeps its text as a value (`JSONSchema.source`, for the contract docs):
    /// every nested schema keeping its own would copy each subtree once per level above it, which
    /// a deeply nested file within the size limit turned into gigabytes.
    func compile(_ node: Int, isRoot: Bool = false) -> JSONSchema? {
        guard document.kind(node) == .object else {
            error(node, "a schema must be a JSON object")
            return nil
        }
        var types: JSONSchema.Types = .any
        var required: [String] = []
        var properties: [(String, JSONSchema)] = []
        var additional: JSONSchema?? = nil
        var enumValues: [JSONValue]?
        var numbers: [String: Double] = [:]
        var counts: [String: Int] = [:]
        var pattern: NSRegularExpression?
        var items: JSONSchema?
        var description: String?
        for (keyNode, valueNode) in document.fields(node) {
            let key = document.string(keyNode)
            // Built only for keywords that read a value: `properties`, `items` and `examples` can
            // hold most of the file, and building them here at every level cost size × depth.
            var value: JSONValue { document.value(valueNode) }
            switch key {
            case "type":
                let names: [String] = switch value {
                case .string(let s): [s]
                case .array(let list): list.compactMap(\.stringValue)
                default: []
                }
                types = []
                for name in names {
                    guard let t = JSONSchema.Types.names.first(where: { $0.0 == name })?.1 else {
                        error(valueNode, "unknown JSON Schema type '\(name)'", hint: Suggest.hint(for: name, in: JSONSchema.Types.names.map(\.0)))
                        continue
                    }
                    types.insert(t)
                }
                if types.contains(.integer) { types.remove(.number); types.insert(.integer) }
                if names.isEmpty { error(valueNode, "'type' must be a string or a list of strings"); types = .any }
            case "required":
                guard case .array(let list) = value, list.allSatisfy({ $0.stringValue != nil }) else {
                    error(valueNode, "'required' must be a list of property names"); continue
                }
                required = list.compactMap(\.stringValue)
            case "properties":
                guard document.kind(valueNode) == .object else { error(valueNode, "'properties' must be an object"); continue }
                for (nameNode, schemaNode) in document.fields(valueNode) {
                    if let schema = compile(schemaNode) { properties.append((document.string(nameNode), schema)) }
                }
            case "additionalProperties":
                switch document.kind(valueNode) {
                case .true: additional = nil
                case .false: additional = .some(nil)
                case .object: additional = .some(compile(valueNode))
                default: error(valueNode, "'additionalProperties' must be a boolean or a schema")
                }
            case "enum":
                guard case .array(let list) = value else { error(valueNode, "'enum' must be a list"); continue }
                guard list.count <= InputLimits.maxSchemaEnumValues else {
                    error(valueNode, "'enum' lists \(list.count) values, over the limit of \(InputLimits.maxSchemaEnumValues) (InputLimits.maxSchemaEnumValues)",
                          hint: "use a pattern or a looser type; every event is compared with each value"); continue
                }
                enumValues = list
            case "const": enumValues = [value]
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard let n = value.numberValue, n.isFinite else { error(valueNode, "'\(key)' must be a finite number"); continue }
                numbers[key] = n
            case "minLength", "maxLength", "minItems", "maxItems":
                // Counts become Int: refuse fractions and huge values instead of trapping on them.
                guard let n = value.numberValue, let count = Int(exactly: n), Self.countRange.contains(count) else {
                    error(valueNode, "'\(key)' must be a whole number in \(Self.countRange.lowerBound)...\(Self.countRange.upperBound)"); continue
                }
                counts[key] = count
            case "pattern":
                guard let text = value.stringValue else { error(valueNode, "'pattern' must be a string"); continue }
                if let problem = PatternSafety.problem(in: text) {
                    error(valueNode, "'pattern' refused: \(problem)",
                          hint: "patterns must match in linear time: no nested or adjacent overlapping repetitions, no backreferences or lookaround (see Topics/README.md)")
                    continue
                }
                guard let regex = try? NSRegularExpression(pattern: text) else {
                    error(valueNode, "'pattern' must be a valid regular expression"); continue
                }
                pattern = regex
            case "items":
                items = compile(valueNode)
            case "description": description = value.stringValue
            case "format", "$schema", "$id", "title", "examples": break
            default:
                error(keyNode, "unsupported JSON Schema keyword '\(key)'",
                      hint: "PlantRouter validates a subset of JSON Schema: \(Self.keywords.joined(separator: ", ")); \(Suggest.closest(to: key, in: Self.keywords).map { "did you mean '\($0)'?" } ?? "remove it")")
            }
        }
        let closed = if case .some(.none) = additional { true } else { false }
        for name in required where !properties.contains(where: { $0.0 == name }) && closed {
            error(node, "required property '\(name)' is not declared in 'properties' while additionalProperties is false", hint: "declare it under 'properties' or remove it from 'required'")
        }
        let compiled = properties.map { JSONSchema.Property(name: $0.0, nameBytes: Array($0.0.utf8), schema: $0.1, required: required.contains($0.0)) }
        // Required names that are not declared still have to be present: keep them as untyped properties.
        let undeclared = required.filter { name in !properties.contains { $0.0 == name } }.map {
            JSONSchema.Property(name: $0, nameBytes: Array($0.utf8), schema: JSONSchema.anything, required: true)
        }
        let all = compiled + undeclared
        if let late = all.enumerated().first(where: { $0.offset >= InputLimits.maxRequiredPropertyPosition && $0.element.required }) {
            error(node, "required property '\(late.element.name)' is property \(late.offset + 1) of this object schema; required properties must be among the first \(InputLimits.maxRequiredPropertyPosition) (InputLimits.maxRequiredPropertyPosition)",
                  hint: "declare it earlier under 'properties' (required names that are not declared count after every declared property)")
            return nil
        }
        return JSONSchema(types: types, properties: all, additional: additional, enumValues: enumValues,
                          minimum: numbers["minimum"], maximum: numbers["maximum"], exclusiveMinimum: numbers["exclusiveMinimum"],
                          exclusiveMaximum: numbers["exclusiveMaximum"], minLength: counts["minLength"],
                          maxLength: counts["maxLength"], minItems: counts["minItems"],
                          maxItems: counts["maxItems"], pattern: pattern, items: items, description: description,
                          source: isRoot ? document.value(node) : .null)
    }
}

extension JSONSchema {
    static let anything = JSONSchema(types: .any, properties: [], additional: nil, enumValues: nil, minimum: nil, maximum: nil,
                                     exclusiveMinimum: nil, exclusiveMaximum: nil, minLength: nil, maxLength: nil, minItems: nil,
                                     maxItems: nil, pattern: nil, items: nil, description: nil, source: .object([]))
}
