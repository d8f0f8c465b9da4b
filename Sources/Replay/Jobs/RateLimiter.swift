import Foundation

/// Spaces events evenly at `perSecond`. Sleeps the calling thread: use it on the
/// replay runner's dedicated thread only.
struct RateLimiter {
    private let interval: Duration?
    private var next = ContinuousClock.now

    init(perSecond: Double?) {
        interval = perSecond.map { .nanoseconds(Int64(1_000_000_000 / $0)) }
    }

    mutating func wait() {
        guard let interval else { return }
        let now = ContinuousClock.now
        if next > now {
            let (seconds, attoseconds) = (next - now).components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
        }
        next = max(now, next) + interval
    }
}
