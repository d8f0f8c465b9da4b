import Foundation
import Yams

/// A YAML file read through Yams' Node API, so every value keeps its line and column,
/// with typed accessors that report problems to a `DiagnosticSink` instead of throwing.
struct YAMLDocument {
    let file: String
    let root: Node?
    let sink: DiagnosticSink

    /// Parses `text`; syntax errors become one diagnostic and `root` is nil.
    init(file: String, text: String, sink: DiagnosticSink) {
        self.file = file
        self.sink = sink
        do {
            root = try Yams.compose(yaml: text)
            if root == nil { sink.error(file, 1, 1, "the file is empty", hint: "see Topics/README.md for the expected layout") }
        } catch let error as YamlError {
            root = nil
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
                sink.error(file, mark.line, mark.column, "malformed YAML: \(problem)\(context.map { " (\($0.text))" } ?? "")",
                           hint: "check indentation and quoting around this position; values holding ':' or '#' need quotes")
            case .duplicatedKeysInMapping(let duplicates, let context):
                sink.error(file, context.mark.line, context.mark.column, "duplicate keys in a mapping: \(duplicates.joined(separator: ", "))", hint: "each key may appear once; remove or rename the repeated one")
            default:
                sink.error(file, 1, 1, "malformed YAML: \(error)", hint: "check the file is UTF-8 YAML")
            }
        } catch {
            root = nil
            sink.error(file, 1, 1, "malformed YAML: \(error)", hint: "check the file is UTF-8 YAML")
        }
    }

    func location(_ node: Node?) -> SourceLocation {
        let mark = node?.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// A mapping whose keys must all be in `allowed`; unknown keys are reported with a suggestion.
    func mapping(_ node: Node?, allowed: [String], what: String) -> YAMLMapping? {
        guard let node else { return nil }
        guard let mapping = node.mapping else {
            sink.error(location(node), "\(what) must be a mapping (key: value)", hint: "expected keys: \(allowed.joined(separator: ", "))")
            return nil
        }
        for (key, _) in mapping {
            guard let name = key.string else { sink.error(location(key), "keys must be strings"); continue }
            if !allowed.contains(name) {
                sink.error(location(key), "unknown key '\(name)' in \(what)", hint: Suggest.hint(for: name, in: allowed))
            }
        }
        return YAMLMapping(document: self, node: node, mapping: mapping, what: what)
    }

    func sequence(_ node: Node?, what: String) -> [Node] {
        guard let node else { return [] }
        guard let items = node.sequence else {
            sink.error(location(node), "\(what) must be a list", hint: "start each item with '- '")
            return []
        }
        return Array(items)
    }
}

/// Typed access to one YAML mapping.
struct YAMLMapping {
    let document: YAMLDocument
    let node: Node
    let mapping: Node.Mapping
    let what: String

    var location: SourceLocation { document.location(node) }
    subscript(key: String) -> Node? { mapping[key] }
    func has(_ key: String) -> Bool { mapping[key] != nil }

    func string(_ key: String, required: Bool = true, hint: String? = nil) -> String? {
        guard let value = mapping[key] else {
            if required { document.sink.error(location, "\(what) is missing '\(key)'", hint: hint ?? "add '\(key):' to this \(what)") }
            return nil
        }
        guard let scalar = value.scalar else {
            document.sink.error(document.location(value), "'\(key)' must be a single value, not a list or mapping", hint: hint)
            return nil
        }
        return scalar.string
    }

    func int(_ key: String, required: Bool = true, range: ClosedRange<Int> = 0...Int.max) -> Int? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            document.sink.error(document.location(mapping[key]), "'\(key)' must be a whole number in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : String(range.upperBound)), got '\(text)'")
            return nil
        }
        return value
    }

    func bool(_ key: String, required: Bool = true) -> Bool? {
        guard let text = string(key, required: required) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            document.sink.error(document.location(mapping[key]), "'\(key)' must be true or false, got '\(text)'")
            return nil
        }
    }

    /// A value from a closed set, reported with the allowed values.
    func choice<T: RawRepresentable<String> & CaseIterable>(_ key: String, _ type: T.Type, required: Bool = true) -> T? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue)
            document.sink.error(document.location(mapping[key]), "invalid \(key) '\(text)'", hint: Suggest.hint(for: text, in: allowed))
            return nil
        }
        return value
    }

    /// A list of strings; a single string is accepted as a one-element list.
    func strings(_ key: String, required: Bool = false) -> [(String, SourceLocation)] {
        guard let value = mapping[key] else {
            if required { document.sink.error(location, "\(what) is missing '\(key)'") }
            return []
        }
        if let s = value.scalar?.string { return [(s, document.location(value))] }
        return document.sequence(value, what: "'\(key)'").compactMap { item in
            guard let s = item.scalar?.string else {
                document.sink.error(document.location(item), "'\(key)' items must be strings")
                return nil
            }
            return (s, document.location(item))
        }
    }

    func location(of key: String) -> SourceLocation { document.location(mapping[key] ?? node) }
}

/// Durations in YAML: `500ms`, `30s`, `5m`, `2h`, `7d`.
enum Duration {
    static func milliseconds(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let value = Int64(number), value >= 0, !(suffix == "m" && text.hasSuffix("ms")) { return value * factor }
        }
        return nil
    }
}
