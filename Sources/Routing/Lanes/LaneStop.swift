import Foundation
import Synchronization

/// A lane's stop request and the deadline it sets: once asked to stop, the lane has its drain
/// timeout to finish in-flight work, and every wait on its thread (backoff, transaction calls,
/// closing the clients) is cut to what is left, so SIGTERM during a broker outage still ends
/// in time instead of in a hard kill.
final class LaneStop: Sendable {
    /// Nanoseconds on the monotonic clock (`DispatchTime`) at which the lane must be done; 0 until stop is requested.
    private let deadlineNanos = Atomic<UInt64>(0)

    var isRequested: Bool { deadlineNanos.load(ordering: .acquiring) != 0 }

    /// Requests the stop; true if this call was the one that did. The deadline is `drainTimeout` from now.
    func request(drainTimeout: Duration) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds.addingReportingOverflow(drainTimeout.nanoseconds)
        let value = deadline.overflow ? UInt64.max : max(deadline.partialValue, 1)
        return deadlineNanos.compareExchange(expected: 0, desired: value, ordering: .acquiringAndReleasing).exchanged
    }

    /// True once a stop was requested and its drain time is used up.
    var deadlinePassed: Bool {
        let deadline = deadlineNanos.load(ordering: .acquiring)
        return deadline != 0 && DispatchTime.now().uptimeNanoseconds >= deadline
    }

    /// What is left of the drain time, capped at `limit`; `limit` itself while no stop is requested.
    func remaining(atMost limit: Duration) -> Duration {
        let deadline = deadlineNanos.load(ordering: .acquiring)
        guard deadline != 0 else { return limit }
        let now = DispatchTime.now().uptimeNanoseconds
        guard deadline > now else { return .zero }
        let left = deadline - now
        return left >= limit.nanoseconds ? limit : .nanoseconds(Int64(clamping: left))
    }

    /// Sleeps for `duration`, waking early when the drain time runs out.
    func sleep(for duration: Duration) {
        var left = remaining(atMost: duration)
        while left > .zero {
            let slice = min(left, .milliseconds(50))
            Thread.sleep(for: slice)
            left -= slice
            if deadlinePassed { return }
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `UInt64.max` and 0 for negative durations.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, overflowSum) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflowSum ? .max : total
    }
}
