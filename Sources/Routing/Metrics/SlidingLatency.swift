import Histogram

/// Latencies of the last `span` (60 s): six 10-second slices, each an HdrHistogram; a slice
/// older than the span is reset before it is reused. Percentiles merge the slices still in the
/// span, so they describe the last 50 to 60 seconds, never the time since start: a lane that
/// was slow an hour ago and is fast now reports fast. A value type fed the time by its owner
/// (the lane statistics' lock), so tests drive it with any clock.
struct SlidingLatency {
    static let span: Duration = .seconds(60)
    static let sliceCount = 6
    static var sliceLength: Duration { span / sliceCount }

    private let origin: ContinuousClock.Instant
    private var slices: [(slot: Int, histogram: Histogram<UInt64>)]

    init(origin: ContinuousClock.Instant = .now) {
        self.origin = origin
        // Two significant digits (1% resolution) up to an hour in microseconds: ~30 KB a slice.
        let empty = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
        slices = Array(repeating: (slot: Int.min, histogram: empty), count: Self.sliceCount)
    }

    private func slot(at now: ContinuousClock.Instant) -> Int {
        guard now > origin else { return 0 }
        return Int((now - origin) / Self.sliceLength)
    }

    /// Records latencies (microseconds) that all arrived at `now`, a lane's flush: the slice is
    /// found once for the lot. Found per value, its `Duration` divisions were 1.3% of a busy
    /// lane's CPU.
    mutating func record(_ values: some Sequence<UInt64>, at now: ContinuousClock.Instant) {
        let slot = slot(at: now)
        let index = slot % Self.sliceCount
        if slices[index].slot != slot {
            slices[index].slot = slot
            slices[index].histogram.reset()
        }
        for micros in values { _ = slices[index].histogram.record(micros) }
    }

    /// The slices within the span at `now`, merged; empty when nothing was recorded in it.
    func window(at now: ContinuousClock.Instant) -> Histogram<UInt64> {
        let current = slot(at: now)
        var merged = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
        for slice in slices where slice.slot > current - Self.sliceCount && slice.slot <= current {
            merged.add(slice.histogram)
        }
        return merged
    }
}
