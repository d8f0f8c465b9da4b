import Foundation
import Kafka
import Policy

/// Reads the demo's plant topics from the beginning and counts records and distinct `ce_id`s,
/// so the demo shows that the outage neither lost nor duplicated an event.
enum DemoReadBack {
    static func count(cluster: EmbeddedCluster, topics: [Topic], expected: Int) throws -> (records: Int, distinctIDs: Int) {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: "edge-demo-\(UUID().uuidString)")
        // The embedded brokers hold an empty fetch for the whole wait.
        configuration.client.properties["fetch.wait.max.ms"] = "10"
        let consumer = try Consumer(configuration: configuration)
        try consumer.assign(topics.flatMap { topic in
            (0..<Int32(clamping: topic.partitions)).map { TopicPartitionOffset(topic: topic.name, partition: $0, offset: TopicPartitionOffset.beginning) }
        })
        var records = 0
        var ids = Set<String>()
        let deadline = ContinuousClock.now + .seconds(20)
        var lastNew = ContinuousClock.now
        // Until everything forwarded is read and nothing new came for a second (a duplicate would show).
        while ContinuousClock.now < deadline, records < expected || ContinuousClock.now - lastNew < .seconds(1) {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            if !batch.records.isEmpty { lastNew = ContinuousClock.now }
            for record in batch.records {
                records += 1
                if let id = eventID(record) { ids.insert(id) }
            }
        }
        try? consumer.close()
        return (records, ids.count)
    }

    /// The `ce_id` header (binary mode) or the JSON `id` (structured mode).
    static func eventID(_ record: ConsumerRecord) -> String? {
        if let header = record.headers.first(where: { $0.name == "ce_id" }), let value = header.value { return String(decoding: value, as: UTF8.self) }
        guard let value = record.value, let object = (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any] else { return nil }
        return object["id"] as? String
    }
}
