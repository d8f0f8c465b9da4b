import Foundation
import Kafka
import Testing

/// librdkafka before 2.3.0 aborts the process when a cooperative-sticky consumer that joined
/// its group is destroyed before its first assignment (upstream issue 4312). The embedded
/// cluster refuses every SyncGroup, so each consumer below joins (JoinGroup succeeds, the
/// assignor is chosen) but never gets an assignment: exactly the state that aborts. The test
/// passing means the process survived every close.
@Suite("Closing a consumer before its first assignment")
struct EarlyCloseTests {
    @Test func closingBeforeTheFirstAssignmentNeverAbortsTheProcess() async throws {
        let test = try TestCluster(brokers: 1, topics: [TopicSpec(name: "early-close", partitions: 3)])
        test.cluster.injectErrors(Array(repeating: .rebalanceInProgress, count: 500), on: .syncGroup)
        for round in 0..<3 {
            var assigned = false
            do {
                let consumer = try test.consumer { event in
                    if case .assigned = event { Issue.record("round \(round): assigned although every SyncGroup fails") }
                }
                try consumer.subscribe(["early-close"])
                // The embedded cluster answers a new group's first JoinGroup after 3 s (its initial
                // rebalance delay); the close lands after it, at a different point each round.
                let deadline = ContinuousClock.now + .milliseconds(3300 + 300 * round)
                while ContinuousClock.now < deadline {
                    _ = try consumer.poll(timeout: .milliseconds(20))
                }
                assigned = !(try consumer.assignment()).isEmpty
                try consumer.close()
            }
            #expect(!assigned)
        }
        // The cluster still serves a consumer that is allowed to finish joining.
        test.cluster.clearInjectedErrors(on: .syncGroup)
        let consumer = try test.consumer()
        try consumer.subscribe(["early-close"])
        let deadline = ContinuousClock.now + .seconds(20)
        while try consumer.assignment().isEmpty, ContinuousClock.now < deadline {
            _ = try consumer.poll(timeout: .milliseconds(50))
        }
        #expect(try consumer.assignment().count == 3)
        try consumer.close()
    }
}
