@testable import Routing
import Testing

@Suite("Sliding latency window")
struct SlidingLatencyTests {
    @Test func percentilesDescribeTheLastMinuteOnly() {
        let start = ContinuousClock.now
        var window = SlidingLatency(origin: start)
        // A slow first minute: 1000 outputs at 2 s.
        window.record(repeatElement(2_000_000, count: 1000), at: start + .seconds(5))
        #expect(window.window(at: start + .seconds(30)).valueAtPercentile(99) >= 1_980_000)
        // Fast since: 100 outputs at 20 ms, two minutes later.
        window.record(repeatElement(20_000, count: 100), at: start + .seconds(125))
        let now = window.window(at: start + .seconds(130))
        #expect(now.totalCount == 100, "the slow minute is out of the window")
        #expect(now.valueAtPercentile(99) < 21_000)
        // Nothing recorded for a full span: empty, so no percentile is reported at all.
        #expect(window.window(at: start + .seconds(125) + SlidingLatency.span + .seconds(10)).totalCount == 0)
    }

    @Test func aSliceOlderThanTheSpanIsResetBeforeReuse() {
        let start = ContinuousClock.now
        var window = SlidingLatency(origin: start)
        window.record([5_000_000], at: start + .seconds(1))
        // Same slice index one span later: the old value must not leak into the new slice.
        window.record([1_000], at: start + SlidingLatency.span + .seconds(1))
        let merged = window.window(at: start + SlidingLatency.span + .seconds(2))
        #expect(merged.totalCount == 1)
        #expect(merged.max < 2_000)
    }

    @Test func aFlushOfLatenciesLandsInOneSliceAndResetsAStaleOne() {
        let start = ContinuousClock.now
        var window = SlidingLatency(origin: start)
        window.record([9_000_000], at: start + .seconds(1))
        window.record([1_000, 2_000, 3_000], at: start + SlidingLatency.span + .seconds(1))
        let merged = window.window(at: start + SlidingLatency.span + .seconds(2))
        #expect(merged.totalCount == 3, "the stale value from one span earlier is gone")
        #expect(merged.max < 3_100)
        #expect(merged.min >= 990)
    }

    @Test func laneSnapshotsReportTheWindow() {
        let statistics = LaneStatistics(lane: "quality")
        var tally = Tally()
        tally.produced(topic: "qms.inspection-requests", latencyMicros: 40_000)
        statistics.add(tally)
        #expect(statistics.snapshot.latencyP99Ms.map { $0 >= 39 && $0 <= 41 } == true)
        #expect(statistics.snapshot(at: .now + .seconds(120)).latencyP99Ms == nil, "two minutes of silence: no latency to report")
        #expect(LaneStatistics.latencyWindow == .seconds(60))
    }
}
