import CRdKafka
import Synchronization

/// librdkafka before 2.3.0 aborts the whole process (`rd_kafka_sticky_assignor_state_destroy:
/// Assertion 'assignor_state' failed`, upstream issue 4312) when a cooperative-sticky group
/// consumer is destroyed after its JoinGroup succeeded but before its first SyncGroup
/// assignment: the group's destructor hands the sticky assignor a state that only the first
/// assignment creates. Debian bookworm ships 2.0.2, so every early shutdown or early
/// rebalance of a lane could take the router down.
///
/// The join and the assignment are librdkafka's internal steps: from outside only the
/// assignment is observable (the rebalance callback runs right after the state is created).
/// So the guard is conservative: on an affected runtime, a consumer that subscribed and never
/// saw an assignment is not destroyed. Its handle is left to the process's exit, a small leak
/// on a rare path instead of an abort; runtimes from 2.3.0 on destroy it as usual.
final class StickyAssignorDefect: Sendable {
    /// The first librdkafka release with the fix (`rd_kafka_version()` encoding).
    static let fixedInVersion: Int32 = 0x0203_00ff

    /// True when the loaded librdkafka has the defect.
    static var runtimeIsAffected: Bool { rd_kafka_version() < fixedInVersion }

    /// Whether the consumer joins groups with the cooperative-sticky assignor.
    let usesCooperativeSticky: Bool
    private let subscribed = Atomic<Bool>(false)
    private let assigned = Atomic<Bool>(false)

    /// - Parameter assignmentStrategy: the effective `partition.assignment.strategy`.
    init(assignmentStrategy: String) {
        usesCooperativeSticky = assignmentStrategy.contains("cooperative-sticky")
    }

    func didSubscribe() { subscribed.store(true, ordering: .releasing) }

    func didReceiveAssignment() { assigned.store(true, ordering: .releasing) }

    /// True when `rd_kafka_destroy` on this consumer could hit the defect.
    var destroyMayAbort: Bool {
        Self.runtimeIsAffected && usesCooperativeSticky
            && subscribed.load(ordering: .acquiring) && !assigned.load(ordering: .acquiring)
    }
}
