/// A topic to create: name, partitions, replication and topic-level configs
/// (`cleanup.policy`, `retention.ms`, `min.insync.replicas`, …).
public struct TopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    public var configs: [String: String]

    public init(name: String, partitions: Int32 = 1, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as the cluster's metadata describes it.
public struct TopicDescription: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var id: Int32
        public var leader: Int32
        public var replicas: [Int32]
        public var inSyncReplicas: [Int32]
    }

    public var name: String
    public var partitions: [Partition]
}

/// How far a consumer group is behind on one partition.
public struct PartitionLag: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// The group's committed offset, or `nil` when it has committed nothing.
    public var committed: Int64?
    public var highWatermark: Int64
    /// Records written but not yet committed by the group (from the low
    /// watermark when nothing is committed).
    public var lag: Int64
}
