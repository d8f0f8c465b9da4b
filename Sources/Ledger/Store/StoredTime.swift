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
    static func databaseValue(_ date: Date) -> DatabaseValue {
        text(date).map { $0.databaseValue } ?? date.databaseValue
    }

    /// 253,402,300,800 s is 10000-01-01T00:00:00Z.
    private static let end: TimeInterval = 253_402_300_800

    static func text(_ date: Date) -> String? {
        let seconds = date.timeIntervalSince1970
        guard seconds >= 0, seconds < end else { return nil }
        // Rounded to the nearest millisecond, as the formatter does.
        let milliseconds = Int((seconds * 1000).rounded(.toNearestOrAwayFromZero))
        guard milliseconds < Int(end) * 1000 else { return nil }
        let days = milliseconds / 86_400_000
        let rest = milliseconds % 86_400_000
        // Days to a civil date (H. Hinnant's algorithm; days ≥ 0 here).
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
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
            put(rest / 3_600_000, digits: 2); put(":"); put(rest / 60_000 % 60, digits: 2); put(":")
            put(rest / 1000 % 60, digits: 2); put("."); put(rest % 1000, digits: 3)
            return index
        }
    }
}
