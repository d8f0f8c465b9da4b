import Kafka
import Policy

extension TopicSpec {
    /// The Kafka topic a catalog entry describes, for creating the catalog on a cluster.
    /// `replicationFactor` overrides the catalog's (single-broker test clusters).
    public init(_ topic: Policy.Topic, replicationFactor: Int32? = nil) {
        self.init(
            name: topic.name, partitions: Int32(topic.partitions),
            replicationFactor: replicationFactor ?? Int32(topic.replicationFactor))
    }
}
