import Policy

/// Refuses keys a configuration section does not know, with the same "did you mean" hint
/// Topics/ gives: a misspelt `drainTimoutMs` must not silently fall back to the default.
enum StrictKeys {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown key '\(key.stringValue)'; \(Suggest.hint(for: key.stringValue, in: allowed))")
        }
    }

    /// Decodes an optional whole number and refuses one outside `range`, naming the range.
    static func int<Key: CodingKey>(
        _ container: KeyedDecodingContainer<Key>, _ key: Key, default fallback: Int, in range: ClosedRange<Int>
    ) throws -> Int {
        guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return fallback }
        guard range.contains(value) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "\(key.stringValue) must be within \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
        return value
    }
}
