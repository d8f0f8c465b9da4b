import Testing
@testable import Routing

/// Issue 13: a producer sets the record timestamp; near the ends of Int64 the latency
/// arithmetic trapped. Unit tests of the arithmetic only (no broker).
@Suite struct LatencyArithmeticTests {
    let now: Int64 = 1_772_352_000_000_000 // microseconds

    @Test func ordinaryTimestamp() {
        #expect(LaneContext.latencyMicros(from: 1_772_351_999_000, to: now) == 1_000_000)
    }

    @Test(arguments: [Int64.max, Int64.max / 1000 + 1, Int64.min, -1, 0])
    func extremeTimestampsAreNotRecorded(timestampMs: Int64) {
        #expect(LaneContext.latencyMicros(from: timestampMs, to: now) == nil)
    }

    @Test func endAtTheEdgeDoesNotOverflow() {
        #expect(LaneContext.latencyMicros(from: Int64.max / 1000, to: .min) == nil)
        #expect(LaneContext.latencyMicros(from: 1, to: .max) == Int64.max - 1000)
    }
}

/// A dead letter copies its original's timestamp only when a broker will accept it.
@Suite struct DeadLetterTimestampTests {
    let now: Int64 = 1_772_352_000_000

    @Test func plausibleTimestampsAreKept() {
        #expect(DeadLetter.keptTimestamp(now - 86_400_000, nowMs: now) == now - 86_400_000)
        #expect(DeadLetter.keptTimestamp(now + 60_000, nowMs: now) == now + 60_000)
        #expect(DeadLetter.keptTimestamp(0, nowMs: now) == 0)
    }

    @Test(arguments: [Int64.max, Int64.min, -1, 253_402_300_799_999 /* year 9999 */])
    func hostileTimestampsAreNotCopied(timestampMs: Int64) {
        #expect(DeadLetter.keptTimestamp(timestampMs, nowMs: now) == nil)
    }
}
