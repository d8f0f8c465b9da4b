import Foundation
import Kafka
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test func abortedRecordsAreInvisibleToReadCommittedAndCommittedOnesAppearOnce() async throws {
        let topic = "confirmations"
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 1, replicationFactor: 3)])
        let transactions = try TransactionalProducer(
            configuration: test.producerConfiguration(), transactionalID: "lane-orders-0", logger: testLogger)
        try await transactions.initTransactions()

        try transactions.beginTransaction()
        for index in 0..<10 { try transactions.produce(record(topic, "aborted-\(index)")) }
        // Make sure the aborted records really reach the log before the abort.
        try transactions.producer.flush()
        try await transactions.abortTransaction()

        try transactions.beginTransaction()
        for index in 0..<10 { try transactions.produce(record(topic, "committed-\(index)")) }
        try await transactions.commitTransaction()

        let committed = Set((0..<10).map { "committed-\($0)" })
        let aborted = Set((0..<10).map { "aborted-\($0)" })

        // The aborted records come first in the log, so a reader that has seen every
        // committed record has passed them: not having seen them means they are hidden.
        var readCommitted = test.consumerConfiguration()
        readCommitted.isolationLevel = .readCommitted
        let committedReader = try test.consumer(readCommitted)
        try committedReader.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)])
        let seenCommitted = try await consume(committedReader) { records in
            committed.isSubset(of: records.map(\.valueText))
        }.map(\.valueText)
        #expect(seenCommitted.filter(committed.contains).sorted() == committed.sorted(), "each committed record exactly once")
        withKnownIssue(
            "librdkafka 2.0.2's embedded cluster writes no transaction markers and reports no aborted transactions in Fetch, so read_committed cannot hide aborted records there"
        ) {
            #expect(seenCommitted.filter(aborted.contains).isEmpty, "nothing of the aborted transaction is visible")
        }

        // The abort path really wrote: an uncommitted reader sees the aborted records.
        var readUncommitted = test.consumerConfiguration()
        readUncommitted.isolationLevel = .readUncommitted
        let uncommittedReader = try test.consumer(readUncommitted)
        try uncommittedReader.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)])
        let seenUncommitted = try await consume(uncommittedReader) { records in
            committed.union(aborted).isSubset(of: records.map(\.valueText))
        }.map(\.valueText)
        #expect(Set(seenUncommitted) == committed.union(aborted))
        try transactions.close()
    }

    @Test func consumedOffsetsCommitOnlyWithTheTransaction() async throws {
        let test = try TestCluster(topics: [
            TopicSpec(name: "orders.in", partitions: 1, replicationFactor: 3),
            TopicSpec(name: "orders.out", partitions: 1, replicationFactor: 3),
        ])
        try test.produceNumbered(20, to: "orders.in")
        let group = "order-lane"
        let input = TopicPartition(topic: "orders.in", partition: 0)
        let consumer = try test.consumer(test.consumerConfiguration(group: group))
        try consumer.subscribe(["orders.in"])
        let handled = Array(try await consume(consumer) { $0.count >= 10 }.prefix(10))
        try #require(handled.count == 10)
        let next = handled.last!.nextOffset
        #expect(next.offset == 10)

        let transactions = try TransactionalProducer(
            configuration: test.producerConfiguration(), transactionalID: "lane-orders-1", logger: testLogger)
        try await transactions.initTransactions()

        func transaction(commit: Bool) async throws {
            try transactions.beginTransaction()
            for input in handled {
                try transactions.produce(record("orders.out", "\(commit ? "committed" : "aborted")-\(input.valueText)"))
            }
            try await transactions.sendOffsets([next], group: consumer.groupMetadata())
            if commit { try await transactions.commitTransaction() } else { try await transactions.abortTransaction() }
        }

        try await transaction(commit: false)
        let afterAbort = try await onDedicatedThread { try consumer.committed([input]) }
        #expect(afterAbort.map(\.offset) == [TopicPartitionOffset.invalid], "an aborted transaction commits no offsets")

        try await transaction(commit: true)
        let afterCommit = try await onDedicatedThread { try consumer.committed([input]) }
        let viaAdmin = try test.admin().committedOffsets(group: group, topics: ["orders.in"])
        withKnownIssue(
            "librdkafka 2.0.2's embedded cluster acknowledges TxnOffsetCommit but never stores the offsets"
        ) {
            #expect(afterCommit.map(\.offset) == [10], "the committed transaction committed the consumer's offsets")
            #expect(viaAdmin.map(\.offset) == [10])
        }

        // Downstream sees the outputs of the committed transaction once.
        let reader = try test.consumer()
        try reader.assign([TopicPartitionOffset(topic: "orders.out", partition: 0, offset: TopicPartitionOffset.beginning)])
        let outputs = try await consume(reader) { $0.filter { $0.valueText.hasPrefix("committed") }.count >= 10 }
        #expect(outputs.map(\.valueText).filter { $0.hasPrefix("committed") } == handled.map { "committed-\($0.valueText)" })

        try transactions.close()
        try await onDedicatedThread { try consumer.close() }
    }

    private func record(_ topic: String, _ text: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Array("work-order-1".utf8), value: Array(text.utf8))
    }
}
