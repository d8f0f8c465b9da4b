import Foundation

/// The router's wall clock in milliseconds since 1970; injected so tests can fix "now".
public typealias WallClock = @Sendable () -> Int64

/// The system clock.
public let systemWallClock: WallClock = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

/// Decides whether an event's time is close enough to the router's clock to move a window
/// (`limits.maxClockSkew`): one event dated year 9999 would otherwise make every later event
/// of its key "late".
///
/// The clock is read only when an event lies beyond the last reading plus the skew, so the
/// hot path costs one compare: plant events carry times just behind "now", and the reading
/// is refreshed about once per skew interval as they advance. Should the wall clock step back,
/// events are judged against the earlier, later reading until the next refresh.
struct ClockSkewGuard {
    let maxSkewMs: Int64
    let clock: WallClock
    /// Last clock reading plus the skew (`.min` before the first reading).
    private var horizon: Int64 = .min

    init(maxSkewMs: Int64, clock: @escaping WallClock) {
        self.maxSkewMs = maxSkewMs
        self.clock = clock
    }

    /// True when `timeMs` is at most `maxSkewMs` ahead of the clock.
    @inline(__always) mutating func admits(_ timeMs: Int64) -> Bool {
        if timeMs <= horizon { return true }
        horizon = clock().clampedAdding(maxSkewMs)
        return timeMs <= horizon
    }
}

extension Int64 {
    /// `self + other`, saturating at the ends of Int64 instead of trapping (event times are
    /// anything a producer sends, Int64.min and Int64.max included).
    @inline(__always) func clampedAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, saturating at the ends of Int64.
    @inline(__always) func clampedSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
