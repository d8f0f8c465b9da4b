import Foundation
import Kafka
import Testing

/// A poll takes up to `maxRecords` of what is queued: one message at a time with librdkafka
/// before 2.1.0, in batch calls of at most 1,024 from 2.1.0 (`.ci/run` runs these tests with both).
/// Either way nothing may be skipped, repeated or reordered, and no poll may return more.
@Suite("Consumer batches")
struct ConsumerBatchTests {
    @Test(arguments: [1, 7, 1_023, 1_025, 2_500])
    func pollsReturnAtMostMaxRecordsAndEveryOffsetOnceInOrder(maxRecords: Int) async throws {
        let topic = "batches-\(maxRecords)"
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 1)])
        let count = 3_000
        try await onDedicatedThread { try test.produceNumbered(count, to: topic, partition: 0) }

        let consumer = try test.consumer()
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)])
        // Expectations are checked here, in the test's task: the polling thread only collects.
        let (offsets, largest, valuesMatch) = try await onDedicatedThread { () throws -> ([Int64], Int, Bool) in
            var offsets: [Int64] = []
            var largest = 0
            var valuesMatch = true
            let deadline = ContinuousClock.now + .seconds(30)
            while offsets.count < count, ContinuousClock.now < deadline {
                let batch = try consumer.poll(maxRecords: maxRecords, timeout: .milliseconds(100))
                largest = max(largest, batch.records.count)
                offsets += batch.records.map(\.offset)
                valuesMatch = valuesMatch && batch.records.allSatisfy { String(decoding: $0.value ?? [], as: UTF8.self) == String($0.offset) }
            }
            return (offsets, largest, valuesMatch)
        }
        #expect(largest <= maxRecords, "a poll returned \(largest) records with maxRecords \(maxRecords)")
        #expect(valuesMatch, "every record's value is its offset, as produced")
        #expect(offsets == (0..<Int64(count)).map { $0 }, "offsets read: \(offsets.count), first gap or repeat near \(offsets.indices.first { offsets[$0] != Int64($0) } ?? -1)")
        try consumer.close()
    }

    /// Polling into one batch empties it first and keeps its records array: once the array has
    /// held a full poll, later polls fill the same storage. A copy the caller keeps is its own.
    @Test func pollsIntoOneBatchReuseItsRecordsArray() async throws {
        let topic = "batches-reused"
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 1)])
        let count = 3_000
        let maxRecords = 500
        try await onDedicatedThread { try test.produceNumbered(count, to: topic, partition: 0) }

        let consumer = try test.consumer()
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)])
        let (offsets, storageMoved, kept) = try await onDedicatedThread { () throws -> ([Int64], Int, [Int64]) in
            var batch = ConsumerBatch()
            var offsets: [Int64] = []
            var fullStorage: UnsafeRawPointer?
            var storageMoved = 0
            var kept: [ConsumerRecord] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while offsets.count < count, ContinuousClock.now < deadline {
                try consumer.poll(into: &batch, maxRecords: maxRecords, timeout: .milliseconds(100))
                offsets += batch.records.map(\.offset)
                // The first records are kept: the next poll cannot reuse their storage.
                if kept.isEmpty { kept = batch.records; continue }
                let storage = batch.records.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
                if let fullStorage {
                    if !batch.records.isEmpty, storage != fullStorage { storageMoved += 1 }
                } else if batch.records.count == maxRecords {
                    fullStorage = storage
                }
            }
            return (offsets, storageMoved, kept.map(\.offset))
        }
        #expect(offsets == (0..<Int64(count)).map { $0 }, "offsets read: \(offsets.count), first gap or repeat near \(offsets.indices.first { offsets[$0] != Int64($0) } ?? -1)")
        #expect(storageMoved == 0, "\(storageMoved) polls after a full one filled new storage")
        #expect(!kept.isEmpty && kept == (0..<Int64(kept.count)).map { $0 }, "the first poll's records, kept by the caller, stay as they were")
        try consumer.close()
    }
}
