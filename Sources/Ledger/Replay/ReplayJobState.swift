/// Where a replay job is in its life. `completed`, `completedWithDeadLetters` and
/// `cancelled` are final.
public enum ReplayJobState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending
    case running
    case paused
    /// Cancel was asked while the job ran; its runner has not stopped yet. It becomes
    /// `cancelled` at the runner's next checkpoint (within a second).
    case cancelling
    /// Every selected event reached its targets (or had already).
    case completed
    /// Read to the end, but some selected events are still dead letters: re-dead-lettered by
    /// the current policy, quarantined by the loop guard, or refused (see `ReplayCounts`).
    case completedWithDeadLetters
    case cancelled
    case failed

    /// The states a job in this state may move to. `running → running` lets a restarted
    /// runner reclaim a job its killed predecessor left running; `failed → running` retries
    /// a job after its cause is fixed, from where it stopped; `cancelling → cancelled` is
    /// the runner stopping (or a second cancel, for a runner that died).
    public var allowedNextStates: Set<ReplayJobState> {
        switch self {
        case .pending: [.running, .paused, .cancelled, .failed]
        case .running: [.running, .paused, .completed, .completedWithDeadLetters, .cancelling, .cancelled, .failed]
        case .cancelling: [.cancelled]
        case .paused: [.running, .cancelled, .failed]
        case .failed: [.running]
        case .completed, .completedWithDeadLetters, .cancelled: []
        }
    }

    public var isFinal: Bool { allowedNextStates.isEmpty }
}
