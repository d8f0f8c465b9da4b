import Synchronization

/// Asks a running replay to stop at a checkpoint within a second (the job is left `paused`,
/// and `resume` continues it; a job whose ledger state is `cancelling` ends `cancelled`).
public final class ReplayControl: Sendable {
    private let stopRequested = Atomic<Bool>(false)

    public init() {}

    public func stop() { stopRequested.store(true, ordering: .releasing) }
    public var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
}
