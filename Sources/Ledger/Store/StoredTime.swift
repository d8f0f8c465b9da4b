import Foundation
import GRDB

/// A time as the ledger stores it: GRDB's text form of a `Date`, `yyyy-MM-dd HH:mm:ss.SSS` in
/// UTC, which `Row.decode` reads back.
///
/// Written here, byte for byte the same as GRDB's, because GRDB formats each `Date` through
/// Foundation's `DateFormatter` (ICU): that was 10% of the audit indexer's CPU, which writes two
/// times per audit entry. Dates outside years 1970–9999 (never written by the router, which
/// bounds entry times to that range) go through GRDB as before.
enum StoredTime {
    /// The text the ledger stores for `date`.
    static func string(_ date: Date) -> String {
        if let text = text(date) { return text }
        // GRDB's text form of any date is a string; the fallback is never taken.
        return String.fromDatabaseValue(date.databaseValue) ?? "\(date.timeIntervalSince1970)"
    }

    /// 253,402,300,800 s is 10000-01-01T00:00:00Z.
    private static let end: TimeInterval = 253_402_300_800

    static func text(_ date: Date) -> String? {
        let seconds = date.timeIntervalSince1970
        guard seconds >= 0, seconds < end else { return nil }
        // Rounded to the nearest millisecond, as the formatter does.
        let milliseconds = Int((seconds * 1000).rounded(.toNearestOrAwayFromZero))
        guard milliseconds < Int(end) * 1000 else { return nil }
        // The C library's calendar arithmetic: no locale, no allocation.
        var wholeSeconds = time_t(milliseconds / 1000)
        var fields = tm()
        guard gmtime_r(&wholeSeconds, &fields) != nil else { return nil }
        let year = Int(fields.tm_year) + 1900, month = Int(fields.tm_mon) + 1, day = Int(fields.tm_mday)
        let hour = Int(fields.tm_hour), minute = Int(fields.tm_min), second = Int(fields.tm_sec)
        return String(unsafeUninitializedCapacity: 23) { buffer in
            var index = 0
            func put(_ value: Int, digits: Int) {
                var divisor = 1
                for _ in 1..<digits { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    index += 1
                    divisor /= 10
                }
            }
            func put(_ separator: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: separator)
                index += 1
            }
            put(year, digits: 4); put("-"); put(month, digits: 2); put("-"); put(day, digits: 2); put(" ")
            put(hour, digits: 2); put(":"); put(minute, digits: 2); put(":")
            put(second, digits: 2); put("."); put(milliseconds % 1000, digits: 3)
            return index
        }
    }
}
