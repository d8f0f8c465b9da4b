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
        // Aliases, depth and size are checked on libyaml's events before Yams builds a tree.
        let problems = YAMLPreflight.check(text)
        guard problems.isEmpty else {
            for p in problems { sink.error(file, p.line, p.column, p.message, hint: p.hint) }
            root = nil
            return
        }
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

    /// A whole number in `range`; every integer a Topics file gives has an explicit bound.
    /// `limitName` names the limit behind the range, when there is one.
    func int(_ key: String, required: Bool = true, range: ClosedRange<Int>, limitName: String? = nil) -> Int? {
        guard let text = string(key, required: required) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            document.sink.error(document.location(mapping[key]), "'\(key)' must be a whole number in \(range.lowerBound)...\(range.upperBound)\(limitName.map { " (\($0))" } ?? ""), got '\(String(text.prefix(40)))'")
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

/// Durations in YAML: `500ms`, `30s`, `5m`, `2h`, `7d`, bounded by a named limit.
enum Duration {
    enum Problem: Error, Equatable { case invalid, overLimit }

    private static let units: [(suffix: String, factor: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]

    /// Milliseconds of `text`, at most `limit`. Overflow-checked: `99999999999999999d` is over
    /// the limit, not a trap.
    static func milliseconds(_ text: String, limit: Int64) -> Result<Int64, Problem> {
        for (suffix, factor) in units where text.hasSuffix(suffix) && !(suffix == "m" && text.hasSuffix("ms")) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .failure(.invalid) }
            // All digits: too many for Int64 is simply too long.
            guard let value = Int64(number) else { return .failure(.overLimit) }
            let (ms, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow || ms > limit ? .failure(.overLimit) : .success(ms)
        }
        return .failure(.invalid)
    }

    /// `limit` written in the largest unit that divides it (`30d`).
    static func text(_ ms: Int64) -> String {
        for (suffix, factor) in units.reversed() where ms % factor == 0 { return "\(ms / factor)\(suffix)" }
        return "\(ms)ms"
    }
}

/// The policy's duration syntax (`500ms`, `30s`, `5m`, `2h`, `7d`) for other configuration
/// files, such as the edge's `edge.yaml`.
public enum DurationSyntax {
    /// Milliseconds of `text`, or nil when it is not a duration or is over `limit`.
    public static func milliseconds(_ text: String, limit: Int64) -> Int64? {
        try? Duration.milliseconds(text, limit: limit).get()
    }
}

extension YAMLMapping {
    /// A duration under `key`, reported when invalid or over `limit` (named `limitName` in the message).
    func duration(_ key: String, required: Bool = true, limit: Int64, limitName: String, example: String) -> Int64? {
        guard let text = string(key, required: required, hint: "add e.g. '\(key): \(example)'") else { return nil }
        switch Duration.milliseconds(text, limit: limit) {
        case .success(let ms): return ms
        case .failure(.invalid):
            document.sink.error(location(of: key), "invalid \(key) '\(text)'", hint: "use a duration like \(example) (units: ms, s, m, h, d)")
        case .failure(.overLimit):
            document.sink.error(location(of: key), "\(key) '\(String(text.prefix(40)))' is over the limit of \(Duration.text(limit)) (\(limitName))",
                                hint: "use a duration of at most \(Duration.text(limit))")
        }
        return nil
    }
}
