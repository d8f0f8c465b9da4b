import Policy
import Synchronization

/// The active work order per asset, shared by every lane. The correlation
/// reader writes it; lanes look orders up while deciding.
public final class SharedWorkOrders: CorrelationLookup, Sendable {
    private let table = Mutex(WorkOrderTable())

    public init() {}

    public func activeWorkOrder(forAsset asset: String) -> WorkOrder? {
        table.withLock { $0.activeWorkOrder(forAsset: asset) }
    }

    public func workOrder(id: String) -> WorkOrder? {
        table.withLock { $0.workOrder(id: id) }
    }

    func update(_ body: (inout WorkOrderTable) throws -> Void) rethrows {
        try table.withLock { try body(&$0) }
    }
}
