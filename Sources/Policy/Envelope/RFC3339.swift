/// Parses RFC 3339 timestamps (`2026-03-01T08:00:00.125Z`, `…+01:00`) to epoch milliseconds.
/// Hand-written: Foundation's ISO8601DateFormatter costs microseconds per call on the hot path.
public enum RFC3339 {
    public static func milliseconds(_ s: ArraySlice<UInt8>) -> Int64? {
        s.withUnsafeBufferPointer(milliseconds)
    }

    public static func milliseconds(_ s: String) -> Int64? { milliseconds(ArraySlice(s.utf8)) }

    static func milliseconds(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20, b.count <= 40, let minute = minuteMilliseconds(b), let rest = afterMinute(b) else { return nil }
        return minute + rest
    }

    /// The date, hour and minute of the last timestamp read (`2026-03-01T08:00`, its first 16
    /// bytes) with their epoch milliseconds. A stream's events share them for a minute at a
    /// time, so with the cache only the seconds and the zone are read again.
    struct MinuteCache {
        /// The 16 bytes as two words, nil until a timestamp was read.
        var prefix: (UInt64, UInt64)?
        var milliseconds: Int64 = 0
    }

    /// `milliseconds(b)`, reading the date, hour and minute from `cache` when they are the
    /// cached ones (the same bytes: validated when they were cached).
    static func milliseconds(_ b: UnsafeBufferPointer<UInt8>, cache: inout MinuteCache) -> Int64? {
        guard b.count >= 20, b.count <= 40 else { return nil }
        let raw = UnsafeRawBufferPointer(b)
        let prefix = (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let minute: Int64
        if let cached = cache.prefix, cached == prefix {
            minute = cache.milliseconds
        } else {
            guard let parsed = minuteMilliseconds(b) else { return nil }
            cache = MinuteCache(prefix: prefix, milliseconds: parsed)
            minute = parsed
        }
        guard let rest = afterMinute(b) else { return nil }
        return minute + rest
    }

    /// The `n` digits at `at` as a number; nil when one is not a digit.
    @inline(__always) private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ n: Int) -> Int? {
        var v = 0
        for i in at..<at + n {
            let d = Int(b[i]) - 48
            guard d >= 0, d <= 9 else { return nil }
            v = v * 10 + d
        }
        return v
    }

    /// `YYYY-MM-DDTHH:MM` (the first 16 of at least 20 bytes) as epoch milliseconds, zone not applied.
    private static func minuteMilliseconds(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let year = digits(b, 0, 4), b[4] == 45, let month = digits(b, 5, 2), b[7] == 45, let day = digits(b, 8, 2),
              b[10] | 0x20 == UInt8(ascii: "t"), let hour = digits(b, 11, 2), b[13] == 58, let minute = digits(b, 14, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60
        else { return nil }
        return (Int64(daysFromCivil(year, month, day)) * 86_400 + Int64(hour * 3600 + minute * 60)) * 1000
    }

    /// `:SS[.fff]` and the zone (`Z` or `±HH:MM`) from byte 16 to the end, as milliseconds to
    /// add to the minute's (the zone's offset subtracted).
    private static func afterMinute(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b[16] == 58, let second = digits(b, 17, 2), second < 61 else { return nil }
        var i = 19
        var millis = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                millis += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offsetMinutes = 0
        if b[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 <= b.count, let oh = digits(b, i + 1, 2), b[i + 3] == 58, let om = digits(b, i + 4, 2) {
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        return Int64(second) * 1000 + Int64(millis) - Int64(offsetMinutes) * 60_000
    }

    /// Howard Hinnant's days-from-civil algorithm.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(_ ms: Int64) -> String {
        var days = Int(ms.quotientAndRemainder(dividingBy: 86_400_000).quotient)
        var rest = Int(ms - Int64(days) * 86_400_000)
        if rest < 0 { rest += 86_400_000; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))Z"
    }
}

