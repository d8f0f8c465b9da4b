import Kafka
import Policy

extension TopicSpec {
    /// The Kafka topic a catalog entry describes, for creating the catalog on a cluster:
    /// partitions, replication, `cleanup.policy` and (when the catalog sets one) `retention.ms`.
    /// `replicationFactor` overrides the catalog's (single-broker development clusters).
    public init(_ topic: Policy.Topic, replicationFactor: Int32? = nil) {
        var configs = [TopicSpec.cleanupPolicy: topic.cleanup.rawValue]
        if let retentionMs = topic.retentionMs { configs[TopicSpec.retentionMs] = String(retentionMs) }
        self.init(
            name: topic.name, partitions: Int32(clamping: topic.partitions),
            replicationFactor: replicationFactor ?? Int32(clamping: topic.replicationFactor), configs: configs)
    }

    public static let cleanupPolicy = "cleanup.policy"
    public static let retentionMs = "retention.ms"
}
