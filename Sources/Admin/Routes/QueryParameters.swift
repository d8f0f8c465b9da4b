import Hummingbird
import Policy

extension Request {
    /// Refuses query parameters a route does not take, and repeated ones, with a 400 that
    /// names them: a misspelt `limt=5` must not silently mean the default.
    func checkQuery(allowed: [String]) throws {
        var seen: Set<Substring> = []
        for (name, _) in uri.queryParameters {
            guard allowed.contains(String(name)) else {
                let shown = name.prefix(UnknownKeys.longestSuggestible)
                let hint = name.count <= UnknownKeys.longestSuggestible ? Suggest.hint(for: String(name), in: allowed) : "allowed here: \(allowed.joined(separator: ", "))"
                throw HTTPError(.badRequest, message: "unknown query parameter '\(shown)'; \(allowed.isEmpty ? "this route takes none" : hint)")
            }
            guard seen.insert(name).inserted else {
                throw HTTPError(.badRequest, message: "query parameter '\(name)' is given more than once; give it once")
            }
        }
    }

    /// An integer query parameter within `bounds` (named by `limitName` in the error), or
    /// `fallback` when absent. Anything else is a 400.
    func boundedInt(_ name: String, in bounds: ClosedRange<Int>, limitName: String, default fallback: Int) throws -> Int {
        guard let text = uri.queryParameters[Substring(name)] else { return fallback }
        guard let value = Int(text), bounds.contains(value) else {
            throw HTTPError(.badRequest, message: "\(name) must be an integer from \(bounds.lowerBound) to \(bounds.upperBound) (\(limitName)); got '\(text.prefix(40))'")
        }
        return value
    }
}
