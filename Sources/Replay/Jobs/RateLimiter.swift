import Foundation
import Policy

/// Spaces events evenly at `perSecond`. Sleeps the calling thread: use it on the
/// replay runner's dedicated thread only.
struct RateLimiter {
    private let interval: Duration?
    private var next = ContinuousClock.now

    init(perSecond: Double?) {
        interval = perSecond.map(Self.interval(perSecond:))
    }

    /// The gap between events for a rate, clamped to `InputLimits.replayRate` first: a job
    /// recorded before the rate was bounded (or any Double at all: 0, negative, NaN, 1e-12,
    /// infinity) gets the nearest allowed rate instead of trapping when its reciprocal does
    /// not fit in a Duration. NaN, zero and negatives take the slowest rate.
    static func interval(perSecond rate: Double) -> Duration {
        let bounds = InputLimits.replayRate
        let clamped = rate.isNaN ? bounds.lowerBound : min(max(rate, bounds.lowerBound), bounds.upperBound)
        return .nanoseconds(Int64((1e9 / clamped).rounded()))
    }

    /// Waits for the next slot, in slices of at most 100 ms so that `stop` is noticed at
    /// once even at 0.1 events per second; returns false (without taking the slot) when
    /// `stop` became true.
    mutating func wait(unless stop: () -> Bool) -> Bool {
        guard let interval else { return !stop() }
        while true {
            if stop() { return false }
            let now = ContinuousClock.now
            guard next > now else { break }
            let (seconds, attoseconds) = min(next - now, .milliseconds(100)).components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
        }
        next = max(ContinuousClock.now, next) + interval
        return true
    }
}
