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

    func drain() -> [Arrival] {
        reports.withLock { reports in
            defer { reports.removeAll(keepingCapacity: true) }
            return reports
        }
    }
}
