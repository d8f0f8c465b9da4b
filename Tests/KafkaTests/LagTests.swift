import Foundation
import CRdKafka
@testable import Kafka
import Testing

@Suite("Lag")
struct LagTests {
    /// A partition whose committed offset is at its end has nothing to read, so no record is
    /// consumed there and librdkafka never reports a position for it: its lag is 0, not its size.
    @Test func partitionWithNothingToReadShowsNoLag() async throws {
        let topic = "production.counts"
        let test = try TestCluster(brokers: 1, topics: [TopicSpec(name: topic, partitions: 2)])
        try test.produceNumbered(50, to: topic, partition: 0)
        try test.produceNumbered(20, to: topic, partition: 1)
        let group = "lag-\(UUID().uuidString)"
        let committer = try test.consumer(test.consumerConfiguration(group: group))
        try await onDedicatedThread {
            try committer.commit([
                TopicPartitionOffset(topic: topic, partition: 0, offset: 50),
                TopicPartitionOffset(topic: topic, partition: 1, offset: 15),
            ])
            try committer.close()
        }

        let consumer = try test.consumer(test.consumerConfiguration(group: group))
        try consumer.subscribe([topic])
        let records = try await consume(consumer) { $0.count >= 5 }
        #expect(records.map(\.partition).allSatisfy { $0 == 1 }, "only partition 1 has records past the committed offset")
        // A fetch has reported partition 0's watermarks (so the old code counted 50 - 0 here)…
        #expect(try await eventually {
            var low: Int64 = 0
            var high: Int64 = 0
            return rd_kafka_get_watermark_offsets(consumer.handle.pointer, topic, 0, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR && high == 50
        })
        // …and partition 0 still has no position.
        let lag = try await onDedicatedThread { try consumer.lag() }
        #expect(lag == 0, "partition 0 (50 records, all committed) must not count its size; was \(lag)")
        try await onDedicatedThread { try consumer.close() }
    }
}
