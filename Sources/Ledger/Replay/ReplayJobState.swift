/// Where a replay job is in its life. `completed` and `cancelled` are final.
public enum ReplayJobState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending
    case running
    case paused
    case completed
    case cancelled
    case failed

    /// The states a job in this state may move to. `running → running` lets a restarted
    /// runner reclaim a job its killed predecessor left running; `failed → running` retries
    /// a job after its cause is fixed, from where it stopped.
    public var allowedNextStates: Set<ReplayJobState> {
        switch self {
        case .pending: [.running, .paused, .cancelled, .failed]
        case .running: [.running, .paused, .completed, .cancelled, .failed]
        case .paused: [.running, .cancelled, .failed]
        case .failed: [.running]
        case .completed, .cancelled: []
        }
    }

    public var isFinal: Bool { allowedNextStates.isEmpty }
}
