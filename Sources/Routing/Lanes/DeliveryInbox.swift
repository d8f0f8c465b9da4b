import Foundation
import Kafka
import Synchronization

/// Delivery reports handed to the lane's loop, which drains them between batches. Each report is
/// stamped on arrival. A transactional lane's reports arrive on its producer's poll thread, so
/// latency ends when the cluster acknowledged the output, not when the lane got round to it; an
/// at-least-once lane serves its reports itself, between batches (see `AtLeastOnceLoop`).
final class DeliveryInbox: Sendable {
    struct Arrival {
        var report: DeliveryReport
        /// Microseconds since the epoch.
        var receivedAtMicros: Int64
    }

    private let reports = Mutex<[Arrival]>([])

    func add(_ report: DeliveryReport) {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        reports.withLock { $0.append(Arrival(report: report, receivedAtMicros: now)) }
    }

    /// Takes every waiting report (for a caller that drains rarely: the next reports grow a new array).
    func drain() -> [Arrival] {
        reports.withLock { reports in
            let waiting = reports
            reports = []
            return waiting
        }
    }

    /// Replaces `arrivals` with the waiting reports, and gives its emptied buffer to the reports to
    /// come. A loop that drains into the same array every time alternates two buffers and allocates
    /// none: emptying the shared array in place allocated a new buffer of its whole capacity per
    /// drain, a large allocation that made glibc consolidate its free lists (most of the 7% of a
    /// busy lane's samples spent consolidating, Benchmarks/NOTES.md).
    func drain(into arrivals: inout [Arrival]) {
        arrivals.removeAll(keepingCapacity: true)
        reports.withLock { swap(&$0, &arrivals) }
    }
}
