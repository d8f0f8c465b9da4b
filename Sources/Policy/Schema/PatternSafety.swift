/// Load-time check that a schema `pattern` cannot make matching explode.
///
/// Patterns run on `NSRegularExpression` (ICU), a backtracking matcher with no time limit
/// exposed on Linux: `^(a+)+$` against 24 `a`s and a `!` took 4 s here, `^\d*\d*\d*$`
/// against 1 KiB of digits 5 s. Backtracking explodes only where one piece of text can be
/// split between repetitions in many ways, so this refuses exactly those shapes:
///
/// - a repeated group (`+`, `*`, `{2,}`, ...) that contains a variable repetition or an
///   alternation: `(a+)+`, `(a|aa)*`, `(\d{1,3}\.){3}` (write the last one out);
/// - two variable repetitions in a row that can match the same character with nothing
///   mandatory between them that the first cannot match: `\d+\d*`, `a?a?`, `\w+-?\d+`;
/// - backreferences, lookaround, inline flags and ICU's `\Q…\E`-style escapes, which either
///   make matching super-linear or would let the text mean something this check does not see.
///
/// What remains is linear per start position; `InputLimits.maxPatternSubjectBytes` bounds
/// the quadratic cost of trying every start. Hand-written because no regex package here
/// offers a linear-time matcher or a complexity check, and the grammar needed is small.
enum PatternSafety {
    /// Why `pattern` is refused, or nil when it is safe.
    static func problem(in pattern: String) -> String? {
        let length = pattern.unicodeScalars.count
        if length > InputLimits.maxSchemaPatternLength {
            return "pattern is \(length) characters long, over the limit of \(InputLimits.maxSchemaPatternLength) (InputLimits.maxSchemaPatternLength)"
        }
        var checker = Checker(Array(pattern.unicodeScalars))
        do throws(Refusal) { try checker.run() } catch { return error.reason }
        return nil
    }

    struct Refusal: Error { var reason: String }

    /// Characters an atom can match: exact for ASCII, "maybe" for everything beyond it (ICU's
    /// `\d` and `\w` include non-ASCII digits and letters).
    struct CharSet {
        var low: UInt64 = 0, high: UInt64 = 0
        var nonASCII = false

        static let everything = CharSet(low: .max, high: .max, nonASCII: true)

        mutating func insert(_ range: ClosedRange<UInt32>) {
            if range.upperBound >= 128 { nonASCII = true }
            guard range.lowerBound < 128 else { return }
            for c in range.lowerBound...min(range.upperBound, 127) {
                if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
            }
        }

        func inverted() -> CharSet { CharSet(low: ~low, high: ~high, nonASCII: true) }
        func union(_ o: CharSet) -> CharSet { CharSet(low: low | o.low, high: high | o.high, nonASCII: nonASCII || o.nonASCII) }
        func overlaps(_ o: CharSet) -> Bool { low & o.low != 0 || high & o.high != 0 || (nonASCII && o.nonASCII) }

        static func of(_ ranges: ClosedRange<UInt32>...) -> CharSet {
            var s = CharSet()
            for r in ranges { s.insert(r) }
            return s
        }

        static let digit = { var s = CharSet.of(48...57); s.nonASCII = true; return s }()
        static let word = { var s = CharSet.of(48...57, 65...90, 97...122, 95...95); s.nonASCII = true; return s }()
        static let space = { var s = CharSet.of(9...13, 32...32); s.nonASCII = true; return s }()
    }

    /// One open group: what the sequence looked like when it started, and what it contains.
    private struct Group {
        var liveBefore: [CharSet]
        var branchEnds: [[CharSet]] = []
        var chars = CharSet()
        var hasVariable = false
        var hasAlternation = false
    }

    private struct Checker {
        let p: [Unicode.Scalar]
        var i = 0
        /// Variable repetitions that may still be consuming text at this point.
        var live: [CharSet] = []
        var groups: [Group] = [Group(liveBefore: [])]

        init(_ p: [Unicode.Scalar]) { self.p = p }

        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < p.count ? p[i + offset] : nil }

        mutating func run() throws(Refusal) {
            while let c = peek() {
                i += 1
                switch c {
                case "(": try openGroup()
                case ")": try closeGroup()
                case "|":
                    let last = groups.count - 1
                    groups[last].hasAlternation = true
                    groups[last].branchEnds.append(live)
                    live = groups[last].liveBefore
                case "^", "$": break
                case ".": try atom(CharSet.of(0...9, 11...12, 14...127).union(CharSet(nonASCII: true)))
                case "[": try atom(try bracket())
                case "\\": if let set = try escape(inClass: false) { try atom(set) }
                case "*", "+", "?", "{": throw Refusal(reason: "'\(c)' repeats nothing")
                default: try atom(CharSet.of(c.value...c.value))
                }
            }
            if groups.count > 1 { throw Refusal(reason: "a '(' is not closed") }
        }

        mutating func openGroup() throws(Refusal) {
            if peek() == "?" {
                if peek(1) == ":" { i += 2 }
                else if peek(1) == "<", let n = peek(2), n != "=", n != "!" {
                    i += 2
                    while let c = peek(), c != ">" { i += 1 }
                    i += 1
                } else { throw Refusal(reason: "lookaround, inline flags and comments ('(?…') are not supported") }
            }
            groups.append(Group(liveBefore: live))
        }

        mutating func closeGroup() throws(Refusal) {
            guard groups.count > 1, let group = groups.popLast() else { throw Refusal(reason: "unbalanced ')'") }
            let ends = group.branchEnds + [live]
            live = ends.flatMap { $0 }
            let outer = groups.count - 1
            groups[outer].chars = groups[outer].chars.union(group.chars)
            groups[outer].hasVariable = groups[outer].hasVariable || group.hasVariable
            // Alternatives stay alternatives inside another group: `((a|aa))+` is `(a|aa)+`.
            groups[outer].hasAlternation = groups[outer].hasAlternation || group.hasAlternation
            guard let q = try quantifier() else { return }
            // Even a fixed count splits text many ways: `(a{0,9}){9}`.
            if q.max != 1, group.hasVariable || group.hasAlternation {
                throw Refusal(reason: "nested quantifier: a repeated group contains \(group.hasVariable ? "a repetition" : "alternatives") ('(a+)+', '(a|b)*'); matching time can grow exponentially")
            }
            guard q.min != q.max else { return }
            groups[outer].hasVariable = true
            if q.max == 1 {
                // Optional group: its content was checked in line; afterwards either path may be live.
                live = group.liveBefore + live
                return
            }
            // A repeated fixed group acts as one repetition over every character it holds.
            try variable(group.chars, min: q.min, before: group.liveBefore)
        }

        /// A single-character atom and its quantifier.
        mutating func atom(_ set: CharSet) throws(Refusal) {
            let last = groups.count - 1
            groups[last].chars = groups[last].chars.union(set)
            let q = try quantifier() ?? (min: 1, max: 1)
            if q.min != q.max {
                groups[last].hasVariable = true
                try variable(set, min: q.min, before: live)
            } else if q.min > 0 {
                // A mandatory character ends every earlier repetition that cannot match it.
                live = live.filter { $0.overlaps(set) }
            }
        }

        /// A repetition of `set` at least `min` times, after the live repetitions `before`.
        mutating func variable(_ set: CharSet, min: Int, before: [CharSet]) throws(Refusal) {
            if before.contains(where: { $0.overlaps(set) }) {
                throw Refusal(reason: "two repetitions in a row can match the same text ('\\d+\\d*', 'a?a?'); matching time grows with a power of the input length")
            }
            // At least one character it must match ends the earlier ones (none of which can match it).
            live = (min > 0 ? [] : before) + [set]
        }

        /// The quantifier after an atom, if any: `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each
        /// optionally lazy (`?`). Possessive `+` is ICU-only and refused.
        mutating func quantifier() throws(Refusal) -> (min: Int, max: Int?)? {
            guard let c = peek() else { return nil }
            var q: (min: Int, max: Int?)
            switch c {
            case "*": q = (0, nil); i += 1
            case "+": q = (1, nil); i += 1
            case "?": q = (0, 1); i += 1
            case "{":
                guard let bounds = try interval() else { return nil }
                q = bounds
            default: return nil
            }
            if peek() == "?" { i += 1 }
            if let n = peek(), n == "*" || n == "+" || n == "?" || n == "{" { throw Refusal(reason: "a quantifier follows a quantifier ('a+*', 'a++')") }
            return q
        }

        /// `{n}`, `{n,}` or `{n,m}` at `i`, counts at most 1000; nil (a literal `{`) otherwise.
        mutating func interval() throws(Refusal) -> (min: Int, max: Int?)? {
            let p = self.p
            var j = i + 1
            func number() -> Int? {
                var value: Int?
                while j < p.count, let d = Int(exactly: p[j].value), d >= 48, d <= 57 {
                    value = min((value ?? 0) * 10 + d - 48, 100_000)
                    j += 1
                }
                return value
            }
            guard let low = number() else { return nil }
            var high: Int? = low
            if j < p.count, p[j] == "," {
                j += 1
                high = number()
            }
            guard j < p.count, p[j] == "}" else { return nil }
            if max(low, high ?? 0) > 1000 { throw Refusal(reason: "repetition count over 1000") }
            if let high, high < low { throw Refusal(reason: "repetition {\(low),\(high)} has its bounds reversed") }
            i = j + 1
            return (low, high)
        }

        /// A `[...]` class after its `[`.
        mutating func bracket() throws(Refusal) -> CharSet {
            var set = CharSet()
            let negated = peek() == "^"
            if negated { i += 1 }
            var first = true
            while let c = peek() {
                i += 1
                if c == "]" && !first { return negated ? set.inverted() : set }
                first = false
                if c == "[" { throw Refusal(reason: "nested character classes ('[[…]]') are not supported") }
                var lowValue: UInt32
                if c == "\\" {
                    guard let escaped = try escape(inClass: true) else { continue }
                    guard let single = singleValue(escaped) else { set = set.union(escaped); continue }
                    lowValue = single
                } else {
                    lowValue = c.value
                }
                if peek() == "-", let next = peek(1), next != "]" {
                    i += 2
                    var highValue = next.value
                    if next == "\\" {
                        guard let escaped = try escape(inClass: true), let single = singleValue(escaped) else { throw Refusal(reason: "a class range must end in one character") }
                        highValue = single
                    }
                    guard lowValue <= highValue else { throw Refusal(reason: "a class range has its ends reversed") }
                    set.insert(lowValue...highValue)
                } else {
                    set.insert(lowValue...lowValue)
                }
            }
            throw Refusal(reason: "a '[' is not closed")
        }

        /// The ASCII character a set holds when it holds exactly one (ranges need one).
        func singleValue(_ s: CharSet) -> UInt32? {
            guard !s.nonASCII else { return nil }
            if s.low.nonzeroBitCount == 1 && s.high == 0 { return UInt32(s.low.trailingZeroBitCount) }
            if s.high.nonzeroBitCount == 1 && s.low == 0 { return UInt32(s.high.trailingZeroBitCount + 64) }
            return nil
        }

        /// An escape after its `\`; nil for zero-width ones (`\b`, `\B`).
        mutating func escape(inClass: Bool) throws(Refusal) -> CharSet? {
            guard let c = peek() else { throw Refusal(reason: "the pattern ends with '\\'") }
            i += 1
            switch c {
            case "d": return .digit
            case "D": return CharSet.digit.inverted()
            case "w": return .word
            case "W": return CharSet.word.inverted()
            case "s": return .space
            case "S": return CharSet.space.inverted()
            case "b", "B": if inClass { return .of(8...8) } else { return nil }
            case "t": return .of(9...9)
            case "n": return .of(10...10)
            case "v": return .of(11...11)
            case "f": return .of(12...12)
            case "r": return .of(13...13)
            case "0":
                if let n = peek(), n.value >= 48, n.value <= 57 { throw Refusal(reason: "octal escapes are not supported") }
                return .of(0...0)
            case "1"..."9", "k": throw Refusal(reason: "backreferences ('\\1', '\\k<name>') are not supported: they make matching exponential")
            case "p", "P":
                guard peek() == "{" else { throw Refusal(reason: "'\\\(c)' needs a {property}") }
                while let n = peek(), n != "}" { i += 1 }
                i += 1
                return .everything
            case "u", "x":
                let digits = c == "u" ? 4 : 2
                var value: UInt32 = 0
                for _ in 0..<digits {
                    guard let h = peek(), let d = UInt32(String(h), radix: 16) else { throw Refusal(reason: "'\\\(c)' needs \(digits) hex digits") }
                    value = value * 16 + d
                    i += 1
                }
                return .of(value...value)
            default:
                // ICU gives many letters a meaning (\Q, \N, \R, \X, \h, \G ...): refuse them all
                // rather than read them differently from the matcher. Escaped punctuation is literal.
                if c.properties.isAlphabetic || c.properties.numericType != nil { throw Refusal(reason: "the escape '\\\(c)' is not supported") }
                return .of(c.value...c.value)
            }
        }
    }
}
