/// A `*` wildcard pattern over bytes (`plant.*`, `plant/*/gateway-*`); `*` also matches dots and slashes.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let parts: [[UInt8]]
    private let hasWildcard: Bool
    /// `failureTable` of each part, for `find`.
    private let failures: [[Int]]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
        self.hasWildcard = pattern.contains("*")
        self.failures = parts.map(Self.failureTable)
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
            guard let found = find(part: index, in: bytes, from: position) else { return false }
            position = found + part.count
        }
        return true
    }

    /// The first position at or after `from` where `parts[part]` starts, in time linear in the
    /// text (Knuth–Morris–Pratt over the failure table built at init). A naive search cost
    /// segment length × text length: milliseconds per match for a long literal segment against
    /// a long crafted `ce_source`, paid on every resolution-cache miss. Hand-written: for a
    /// 4,000-byte segment against 16 KiB of near-matches, the standard library's
    /// `firstRange(of:)` took 6–7 ms, a naive loop 16–48 ms, this 67 µs (`-O`, this machine).
    private func find(part: Int, in haystack: [UInt8], from: Int) -> Int? {
        let needle = parts[part]
        if needle.isEmpty { return from }
        let failure = failures[part]
        var matched = 0
        var i = from
        while i < haystack.count {
            while matched > 0, haystack[i] != needle[matched] { matched = failure[matched - 1] }
            if haystack[i] == needle[matched] { matched += 1 }
            if matched == needle.count { return i - needle.count + 1 }
            i += 1
        }
        return nil
    }

    /// For each prefix of `needle`, the length of its longest proper prefix that is also its suffix.
    private static func failureTable(_ needle: [UInt8]) -> [Int] {
        var table = [Int](repeating: 0, count: needle.count)
        var length = 0
        var i = 1
        while i < needle.count {
            if needle[i] == needle[length] {
                length += 1
                table[i] = length
                i += 1
            } else if length > 0 {
                length = table[length - 1]
            } else {
                i += 1
            }
        }
        return table
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
