import Foundation
import Kafka
import Synchronization
import Testing

@Suite("Idempotent producer under broker failure")
struct IdempotenceUnderBrokerFailureTests {
    @Test func everyRecordArrivesExactlyOnceInOrderAcrossALeaderOutageAndMove() async throws {
        let topic = "telemetry"
        let total = 20_000
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 3, replicationFactor: 3)])
        let admin = try test.admin()
        // One leader per broker: broker 1 goes down with partition 0, the others keep
        // serving, and partition 1 moves from broker 2 to broker 3 during the outage.
        for partition: Int32 in 0..<3 { try test.cluster.setLeader(topic: topic, partition: partition, brokerID: partition + 1) }
        let downBroker: Int32 = 1
        let moveTo: Int32 = 3

        let reports = ReportCollector()
        var configuration = test.producerConfiguration()
        configuration.lingerMs = 5
        configuration.deliveryTimeoutMs = 120_000
        #expect(configuration.enableIdempotence, "idempotence is the default")
        let producer = try test.producer(configuration) { reports.add($0) }

        @Sendable func produce(_ ids: Range<Int>) throws {
            for id in ids {
                try produceRetryingWhenFull(
                    producer,
                    ProducerRecord(topic: topic, key: Array("asset-\(id % 31)".utf8), value: Array(String(id).utf8)),
                    token: UInt64(id))
            }
        }

        try await onDedicatedThread { try produce(0..<6_000) }
        #expect(try await eventually { reports.count >= 2_000 }, "deliveries are flowing before the fault")

        try test.cluster.setBrokerDown(downBroker)
        let deliveredAtOutage = reports.count
        try await onDedicatedThread { try produce(6_000..<12_000) }
        try test.cluster.setLeader(topic: topic, partition: 1, brokerID: moveTo)
        // The partitions whose leaders are up keep delivering while one is down.
        #expect(try await eventually { reports.count >= deliveredAtOutage + 2_000 })
        try await onDedicatedThread { try produce(12_000..<16_000) }
        try test.cluster.setBrokerUp(downBroker)
        try await onDedicatedThread { try produce(16_000..<total) }
        try await onDedicatedThread { try producer.flush(timeout: .seconds(60)) }

        let all = reports.all
        #expect(all.count == total)
        #expect(all.filter { !$0.succeeded }.isEmpty, "failures: \(all.compactMap(\.error).prefix(5))")
        #expect(Set(all.map(\.token)).count == total, "one report per record")

        let consumer = try test.consumer()
        try consumer.assign((0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning) })
        let records = try await consume(consumer, timeout: .seconds(60)) { $0.count >= total }
        // Anything extra would already be in the local queue by now.
        let extra = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)).records
        let ids = (records + extra).map(\.number)
        #expect(ids.count == total, "no duplicates, nothing missing")
        let missing = Set(0..<total).subtracting(ids)
        #expect(missing.isEmpty, "missing \(missing.count), e.g. \(missing.sorted().prefix(10))")
        for partition: Int32 in 0..<3 {
            let inPartition = records.filter { $0.partition == partition }
            #expect(!inPartition.isEmpty)
            let numbers = inPartition.map(\.number)
            #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "partition \(partition) in produce order")
            let offsets = inPartition.map(\.offset)
            #expect(offsets.first == 0 && offsets.last == Int64(offsets.count - 1) && zip(offsets, offsets.dropFirst()).allSatisfy { $0 + 1 == $1 },
                    "no gaps or duplicates in partition \(partition)")
        }
        #expect(try admin.describeTopics([topic])[0].partitions[1].leader == moveTo)
        try producer.close()
    }
}
