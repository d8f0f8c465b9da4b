import Testing
@testable import Policy

@Suite struct RFC3339Tests {
    /// Through a cache that has already read `warm` (nil: a fresh cache).
    func cached(_ text: String, after warm: String? = nil) -> Int64? {
        var cache = RFC3339.MinuteCache()
        if let warm { _ = Array(warm.utf8).withUnsafeBufferPointer { RFC3339.milliseconds($0, cache: &cache) } }
        return Array(text.utf8).withUnsafeBufferPointer { RFC3339.milliseconds($0, cache: &cache) }
    }

    @Test func readsFractionsAndZones() {
        #expect(RFC3339.milliseconds("2026-03-01T08:00:00Z") == 1_772_352_000_000)
        #expect(RFC3339.milliseconds("2026-03-01T08:00:01.25Z") == 1_772_352_001_250)
        #expect(RFC3339.milliseconds("2026-03-01t09:00:00+01:00") == 1_772_352_000_000)
        #expect(RFC3339.milliseconds("2026-03-01T07:30:00-00:30z") == nil)
        #expect(RFC3339.milliseconds("2026-03-01T07:30:00-00:30") == 1_772_352_000_000)
        for invalid in ["2026-13-01T08:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T08:60:00Z", "2026-03-01T08:00:61Z",
                        "2026-03-01T08:00:00.Z", "2026-03-01T08:00:00", "2026-03-01T08:00:00Zjunk", "2026-03-01 08:00:00Z"] {
            #expect(RFC3339.milliseconds(invalid) == nil, "\(invalid)")
        }
    }

    /// The cache keeps the minute, never the verdict on the rest: whatever follows a cached
    /// minute is read and checked again.
    @Test(arguments: [
        "2026-03-01T08:00:59.999Z", "2026-03-01T08:00:07+02:00", "2026-03-01T08:00:07-05:30", "2026-03-01T08:01:00Z",
        "2026-03-01T08:00:61Z", "2026-03-01T08:00:0xZ", "2026-03-01T08:00:00.Z", "2026-03-01T08:00:00Q",
        "2026-03-01T08:00:00Z ", "2026-03-01t08:00:00Z", "2026-02-01T08:00:00Z",
    ])
    func aCachedMinuteReadsLikeAFreshOne(text: String) {
        #expect(cached(text, after: "2026-03-01T08:00:00.125Z") == RFC3339.milliseconds(text))
        #expect(cached(text) == RFC3339.milliseconds(text))
    }

    /// An invalid minute is never cached, and a cache that read nothing matches nothing
    /// (not even sixteen zero bytes).
    @Test func onlyValidMinutesAreCached() {
        let zeros = String(repeating: "\u{0}", count: 16) + ":00Z"
        #expect(cached(zeros) == nil)
        #expect(cached("2026-03-01T25:00:00Z") == nil)
        #expect(cached("2026-03-01T25:00:00Z", after: "2026-03-01T25:00:00Z") == nil)
    }
}
