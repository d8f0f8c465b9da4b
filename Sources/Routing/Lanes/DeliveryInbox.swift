import Kafka
import Synchronization

/// Delivery reports handed from the producer's poll thread to the lane thread,
/// which drains them between batches.
final class DeliveryInbox: Sendable {
    private let reports = Mutex<[DeliveryReport]>([])

    func add(_ report: DeliveryReport) {
        reports.withLock { $0.append(report) }
    }

    func drain() -> [DeliveryReport] {
        reports.withLock { reports in
            defer { reports.removeAll(keepingCapacity: true) }
            return reports
        }
    }
}
