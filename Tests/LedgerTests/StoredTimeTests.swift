import Foundation
import GRDB
import Testing
@testable import Ledger

/// The ledger writes times itself instead of through GRDB's `DateFormatter`; the text must stay
/// exactly GRDB's, which reads them back and which older files hold.
@Suite struct StoredTimeTests {
    static let edges: [TimeInterval] = [
        0, 0.000_4, 0.999_9, 59.999, 86_399.999, 86_400, 951_782_400, 951_868_799.999, 978_307_200,
        1_700_000_000.123, 1_799_999_999.999_9, 4_107_542_400, 253_402_300_799.999,
    ]

    @Test func writesWhatGRDBWritesForEdgesAndRandomTimes() {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<20_000).map { _ in TimeInterval.random(in: 0..<253_402_300_800, using: &generator) }
        let recent = (0..<20_000).map { _ in TimeInterval.random(in: 1_600_000_000..<1_900_000_000, using: &generator) }
        for seconds in Self.edges + random + recent {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(StoredTime.string(date).databaseValue == date.databaseValue, "\(seconds)")
        }
    }

    @Test func leavesTimesOutsideItsRangeToGRDB() {
        for seconds in [-0.001, -86_400 * 365.25 * 100, 253_402_300_800, 1e15] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(StoredTime.text(date) == nil)
            #expect(StoredTime.string(date).databaseValue == date.databaseValue)
        }
    }

    @Test func readsBackAsTheSameMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_765_000_000.123)
        let back = try #require(Date.fromDatabaseValue(StoredTime.string(date).databaseValue))
        #expect(abs(back.timeIntervalSince1970 - 1_765_000_000.123) < 0.000_5)
    }
}
