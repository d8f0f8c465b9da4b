/// A `*` wildcard pattern over bytes (`plant.*`, `plant/*/gateway-*`); `*` also matches dots and slashes.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let parts: [[UInt8]]
    private let hasWildcard: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        self.parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
        self.hasWildcard = pattern.contains("*")
    }

    public var description: String { pattern }
    public var matchesEverything: Bool { pattern == "*" }

    public func matches(_ string: String) -> Bool { matches(Array(string.utf8)) }

    public func matches(_ text: some Collection<UInt8>) -> Bool {
        if !hasWildcard { return text.elementsEqual(parts[0]) }
        let bytes = Array(text)
        guard bytes.starts(with: parts[0]) else { return false }
        var position = parts[0].count
        for (index, part) in parts.enumerated().dropFirst() {
            if index == parts.count - 1 {
                return bytes.count - position >= part.count && bytes.suffix(part.count).elementsEqual(part)
            }
            guard let found = find(part, in: bytes, from: position) else { return false }
            position = found + part.count
        }
        return true
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        if needle.isEmpty { return from }
        guard haystack.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// True when every string this glob's `other` matches is also matched by `self`
    /// (conservative: exact, `*`, or a `prefix*` covering a longer literal prefix).
    public func covers(_ other: Glob) -> Bool {
        if self == other || matchesEverything { return true }
        if !hasWildcard { return false }
        if parts.count == 2, parts[1].isEmpty {
            return other.parts[0].starts(with: parts[0])
        }
        return !other.hasWildcard && matches(other.pattern)
    }

    public static func == (a: Glob, b: Glob) -> Bool { a.pattern == b.pattern }
}
