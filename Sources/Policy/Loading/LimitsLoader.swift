import Yams

/// Reads the catalog's `limits:` section into `InputLimits`: the bounds on every consumed
/// record. A missing key keeps its default; a bad value is a diagnostic (and the default is
/// kept so the rest of the catalog is still checked).
enum LimitsLoader {
    static let keys = ["maxEventBytes", "maxHeaders", "maxHeaderBytes", "maxKeyBytes", "maxJSONDepth", "maxNumberMagnitude", "maxClockSkew"]

    /// Accepted ranges. `maxHeaders` stays below Int16.max (the decoder indexes headers with it);
    /// `maxJSONDepth` bounds the parser's recursion, so it stays well inside a thread's stack.
    static let eventBytesRange = 1...(64 << 20)
    static let headersRange = 1...4096
    static let headerBytesRange = 1...(16 << 20)
    static let keyBytesRange = 1...(1 << 20)
    static let jsonDepthRange = 1...256
    static let numberMagnitudeRange = 1.0...1e300

    static func load(_ yaml: YAMLDocument, _ node: Node?) -> InputLimits {
        var limits = InputLimits()
        guard let m = yaml.mapping(node, allowed: keys, what: "limits") else { return limits }
        limits.maxEventBytes = m.int("maxEventBytes", required: false, range: eventBytesRange) ?? limits.maxEventBytes
        limits.maxHeaders = m.int("maxHeaders", required: false, range: headersRange) ?? limits.maxHeaders
        limits.maxHeaderBytes = m.int("maxHeaderBytes", required: false, range: headerBytesRange) ?? limits.maxHeaderBytes
        limits.maxKeyBytes = m.int("maxKeyBytes", required: false, range: keyBytesRange) ?? limits.maxKeyBytes
        limits.maxJSONDepth = m.int("maxJSONDepth", required: false, range: jsonDepthRange) ?? limits.maxJSONDepth
        if let text = m.string("maxNumberMagnitude", required: false) {
            if let value = Double(text), numberMagnitudeRange.contains(value) {
                limits.maxNumberMagnitude = value
            } else {
                yaml.sink.error(m.location(of: "maxNumberMagnitude"), "'maxNumberMagnitude' must be a number in 1...1e300, got '\(text)'",
                                hint: "write e.g. 1e15 (the default): JSON numbers of larger magnitude are dead-lettered with reason 'parse'")
            }
        }
        // Events further ahead of the router's clock than this do not move windows.
        limits.maxClockSkewMs = m.duration(
            "maxClockSkew", required: false, limit: InputLimits.maxDurationMs, limitName: "maxDurationMs", example: "5m")
            ?? limits.maxClockSkewMs
        return limits
    }
}
