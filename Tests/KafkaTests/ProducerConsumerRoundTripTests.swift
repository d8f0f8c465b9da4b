import Foundation
import Synchronization
import Kafka
import Testing

@Suite("Producer and consumer round trip")
struct ProducerConsumerRoundTripTests {
    @Test func keysValuesAndHeadersSurviveByteForByte() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "roundtrip", partitions: 1)])
        let binary: [UInt8] = Array(0...255) + [0, 0, 255]
        let sent: [ProducerRecord] = [
            ProducerRecord(topic: "roundtrip", key: Array("asset-1".utf8), value: Array("{\"v\":1}".utf8),
                           headers: [KafkaHeader(name: "ce_id", string: "e1"), KafkaHeader(name: "ce_type", string: "reading")]),
            ProducerRecord(topic: "roundtrip", key: [], value: [], headers: [KafkaHeader(name: "empty", value: [])]),
            ProducerRecord(topic: "roundtrip", key: nil, value: nil, headers: [KafkaHeader(name: "null", value: nil)]),
            ProducerRecord(topic: "roundtrip", key: binary, value: binary, headers: [KafkaHeader(name: "bin", value: binary)],
                           timestampMs: 1_700_000_000_123),
        ]
        let producer = try test.producer()
        var offsets: [Int64] = []
        for record in sent {
            let report = try await producer.send(record)
            #expect(report.topic == "roundtrip")
            #expect(report.partition == 0)
            offsets.append(report.offset)
        }
        #expect(offsets == [0, 1, 2, 3])

        let consumer = try test.consumer()
        try consumer.assign([TopicPartitionOffset(topic: "roundtrip", partition: 0, offset: TopicPartitionOffset.beginning)])
        let received = try await consume(consumer) { $0.count >= sent.count }
        try #require(received.count == sent.count)
        for (got, expected) in zip(received, sent) {
            #expect(got.key == expected.key)
            #expect(got.value == expected.value)
            #expect(got.headers == expected.headers)
        }
        #expect(received[1].value == [], "an empty value stays empty, not null")
        #expect(received[2].value == nil, "a null value stays null")
        #expect(received[3].timestampMs == 1_700_000_000_123)
    }

    /// The consumer shares a header with the previous record's when name and value are the same
    /// bytes at the same position; every near miss must still read as what was sent.
    @Test func headersThatRepeatOrNearlyRepeatReadAsSent() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "repeats", partitions: 1)])
        let headerLists: [[KafkaHeader]] = [
            [KafkaHeader("ce_type", "reading"), KafkaHeader("ce_source", "line-1"), KafkaHeader(name: "opt", value: nil)],
            [KafkaHeader("ce_type", "reading"), KafkaHeader("ce_source", "line-1"), KafkaHeader(name: "opt", value: nil)],
            [KafkaHeader("ce_type", "readinG"), KafkaHeader("ce_sourcE", "line-1"), KafkaHeader(name: "opt", value: [])],
            [KafkaHeader("ce_type", "reading"), KafkaHeader("ce_source", "line-12"), KafkaHeader(name: "opt", value: nil)],
            [KafkaHeader("ce_source", "line-1"), KafkaHeader("ce_type", "reading")],
            [KafkaHeader("ce_source", "line-1"), KafkaHeader("ce_type", "reading"), KafkaHeader("ünïcode", "värde")],
            [KafkaHeader("ce_source", "line-1"), KafkaHeader("ce_type", "reading"), KafkaHeader("ünïcode", "värde")],
            [],
            [KafkaHeader("ce_source", "")],
            [KafkaHeader(name: "ce_source", value: nil)],
        ]
        let producer = try test.producer()
        for headers in headerLists {
            try await producer.send(ProducerRecord(topic: "repeats", value: [1], headers: headers))
        }
        let consumer = try test.consumer()
        try consumer.assign([TopicPartitionOffset(topic: "repeats", partition: 0, offset: TopicPartitionOffset.beginning)])
        let received = try await consume(consumer) { $0.count >= headerLists.count }
        #expect(received.map(\.headers) == headerLists)
    }

    @Test func producedRecordsKeepPerKeyOrder() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "ordered", partitions: 4)])
        try test.produceNumbered(2000, to: "ordered")
        let consumer = try test.consumer()
        try consumer.subscribe(["ordered"])
        let received = try await consume(consumer) { $0.count >= 2000 }
        #expect(received.count == 2000)
        let byKey = Dictionary(grouping: received) { String(decoding: $0.key!, as: UTF8.self) }
        for (_, records) in byKey {
            let values = records.map { Int($0.valueText)! }
            #expect(values == values.sorted(), "records of one key arrive in the order produced")
            #expect(Set(records.map(\.partition)).count == 1, "one key maps to one partition")
        }
    }

    @Test func batchesStreamToAsyncCode() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "stream", partitions: 2)])
        try test.produceNumbered(500, to: "stream")
        let consumer = try test.consumer()
        try consumer.subscribe(["stream"])
        var seen = Set<String>()
        for try await batch in consumer.batches(maxRecords: 100) {
            #expect(batch.records.count <= 100)
            seen.formUnion(batch.records.map(\.valueText))
            if seen.count == 500 { break }
        }
        #expect(seen == Set((0..<500).map(String.init)))
    }

    @Test func deliveryHandlerReportsEveryToken() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "tokens", partitions: 3)])
        let reports = ReportCollector()
        let producer = try test.producer() { reports.add($0) }
        for token in 1...1000 {
            try produceRetryingWhenFull(producer, ProducerRecord(topic: "tokens", value: [1]), token: UInt64(token))
        }
        try producer.flush()
        let all = reports.all
        #expect(all.count == 1000)
        #expect(Set(all.map(\.token)) == Set((1...1000).map(UInt64.init)))
        #expect(all.allSatisfy { $0.succeeded })
    }

    @Test func unknownTopicFailsDeliveryWithLibrdkafkaCode() async throws {
        let test = try TestCluster()
        var configuration = test.producerConfiguration()
        configuration.deliveryTimeoutMs = 1500
        configuration.client.properties["allow.auto.create.topics"] = "false"
        let producer = try test.producer(configuration)
        test.cluster.setTopicError("missing", .unknownTopicOrPartition)
        await #expect {
            try await producer.send(ProducerRecord(topic: "missing", value: [1]))
        } throws: { error in
            let error = try #require(error as? KafkaError)
            return [KafkaErrorCode.messageTimedOut, .unknownTopicOrPartition, .unknownTopic].contains(error.code)
        }
    }
}

@Suite("Compression per topic")
struct TopicCompressionTests {
    @Test func eachTopicIsProducedWithItsOwnCodec() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "zipped", partitions: 1), TopicSpec(name: "plain", partitions: 1)])
        var configuration = test.producerConfiguration()
        configuration.topicCompression = ["zipped": "gzip", "plain": "none"]
        let producer = try test.producer(configuration)
        let value = Array(repeating: UInt8(ascii: "x"), count: 4096)
        for topic in ["zipped", "plain"] {
            let report = try await producer.send(ProducerRecord(topic: topic, key: Array(topic.utf8), value: value))
            #expect(report.error == nil && report.offset == 0, "\(topic): \(report)")
            #expect(report.topic == topic, "each report names its own topic (names are remembered by topic handle)")
        }
        let consumer = try test.consumer()
        try consumer.assign(["zipped", "plain"].map { TopicPartitionOffset(topic: $0, partition: 0, offset: TopicPartitionOffset.beginning) })
        let received = try await consume(consumer) { $0.count >= 2 }
        #expect(Set(received.map(\.topic)) == ["zipped", "plain"])
        #expect(received.allSatisfy { $0.value == value }, "both codecs round-trip the bytes")
    }

    @Test func anUnknownCodecFailsWhenTheProducerIsCreated() throws {
        let test = try TestCluster()
        var configuration = test.producerConfiguration()
        configuration.topicCompression = ["zipped": "lz5"]
        #expect {
            _ = try test.producer(configuration)
        } throws: { error in
            "\(error)".contains("configure topic zipped") && "\(error)".contains("compression.codec=lz5")
        }
    }
}
