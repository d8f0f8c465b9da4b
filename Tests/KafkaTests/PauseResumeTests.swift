import Foundation
import Kafka
import Testing

@Suite("Pause and resume")
struct PauseResumeTests {
    @Test func aPausedPartitionYieldsNothingWhileAnotherFlowsAndResumeDeliversTheRest() async throws {
        let topic = "machine.state"
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 2)])
        try test.produceNumbered(100, to: topic, partition: 0)
        try test.produceNumbered(100, to: topic, partition: 1)
        let paused = TopicPartition(topic: topic, partition: 0)
        let flowing = TopicPartition(topic: topic, partition: 1)

        let consumer = try test.consumer()
        try consumer.assign([paused, flowing].map {
            TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: TopicPartitionOffset.beginning)
        })
        try consumer.pause([paused])

        let first = try await consume(consumer) { $0.count >= 100 }
        #expect(first.allSatisfy { $0.partition == 1 }, "nothing from the paused partition")
        #expect(first.count == 100)

        // Records written to the other partition after the pause keep arriving.
        try test.produceNumbered(100, to: topic, from: 100, partition: 1)
        let second = try await consume(consumer) { $0.count >= 100 }
        #expect(second.allSatisfy { $0.partition == 1 })
        #expect(second.map(\.number) == Array(100..<200))

        try consumer.resume([paused])
        let resumed = try await consume(consumer) { $0.count >= 100 }
        #expect(resumed.allSatisfy { $0.partition == 0 })
        #expect(resumed.map(\.offset) == Array(0..<100), "resume starts where the partition stopped")
        #expect(try consumer.assignment().count == 2, "pausing kept the assignment")
    }
}
