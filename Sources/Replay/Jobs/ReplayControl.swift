import Synchronization

/// Asks a running replay to stop after its current checkpoint (the job is left `paused`,
/// and `resume` continues it). Cancelling through the ledger stops it the same way.
public final class ReplayControl: Sendable {
    private let stopRequested = Atomic<Bool>(false)

    public init() {}

    public func stop() { stopRequested.store(true, ordering: .releasing) }
    public var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
}
