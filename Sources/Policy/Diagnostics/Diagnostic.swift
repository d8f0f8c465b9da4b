/// One problem found while loading Topics/, reported like a compiler does:
/// `Topics/policy.yaml:12:7: error: unknown key 'conditon'` followed by `  hint: did you mean 'condition'?`.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// The Topics/ directory does not load.
        case error
        /// It loads, but probably does not do what its author meant (`policy check` prints these).
        case warning
    }

    public var severity: Severity = .error
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var hint: String?

    public init(file: String, line: Int, column: Int, message: String, hint: String? = nil, severity: Severity = .error) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = "\(file):\(line):\(column): \(severity.rawValue): \(message)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

/// Loading failed: every diagnostic found, not just the first.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while a loader keeps going to find more. Errors stop loading;
/// warnings are kept apart and travel with the loaded policy.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var warnings: [Diagnostic] = []

    func error(_ file: String, _ line: Int, _ column: Int, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, message: message, hint: hint))
    }

    func error(_ at: SourceLocation, _ message: String, hint: String? = nil) {
        error(at.file, at.line, at.column, message, hint: hint)
    }

    func warning(_ at: SourceLocation, _ message: String, hint: String? = nil) {
        warnings.append(Diagnostic(file: at.file, line: at.line, column: at.column, message: message, hint: hint, severity: .warning))
    }

    var isEmpty: Bool { diagnostics.isEmpty }
}

/// A position in a Topics/ file.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }
    public var description: String { "\(file):\(line):\(column)" }

    func advanced(byColumns n: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: column + n) }
}

/// Suggests the closest known word for a misspelt key ("did you mean …?"). Public so the
/// admin API and configuration give the same hint Topics/ does.
public enum Suggest {
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
        return best.0
    }

    public static func hint(for word: String, in candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) { return "did you mean '\(match)'? (allowed: \(candidates.joined(separator: ", ")))" }
        return "allowed here: \(candidates.joined(separator: ", "))"
    }

    /// Levenshtein distance; tiny inputs only.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
