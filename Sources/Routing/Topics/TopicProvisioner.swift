import Kafka
import Logging
import Policy

/// Compares the catalog's topics with a cluster and creates the missing ones
/// (`plantrouter topics verify|apply`, and the check `plantrouter run` makes at start).
/// It never changes an existing topic: more partitions re-key every key's records, and
/// retention is the cluster owner's call, so drift is reported with the command to fix it.
public struct TopicProvisioner: Sendable {
    private let admin: Admin

    public init(cluster: KafkaConfiguration, logger: Logger = Logger(label: "plantrouter.topics")) throws {
        admin = try Admin(configuration: cluster, logger: logger)
    }

    /// What the catalog expects on the cluster, replication overridden when asked.
    public static func expected(_ catalog: Catalog, replicationFactor: Int32? = nil) -> [TopicSpec] {
        catalog.topics.map { TopicSpec($0, replicationFactor: replicationFactor) }
    }

    /// Compares `expected` with the cluster. Throws only when the cluster cannot be read at
    /// all; topic configs that cannot be read (no DescribeConfigs ACL, a broker or embedded
    /// cluster that does not serve it) leave each check's `configsUnverified` set.
    /// Configs get at most `configsTimeout`: a cluster that names no controller (the embedded
    /// one) never answers DescribeConfigs, and `run` should not wait long for that.
    public func check(
        _ expected: [TopicSpec], timeout: Duration = .seconds(10), configsTimeout: Duration = .seconds(5)
    ) async throws -> [TopicCheck] {
        let admin = admin
        return try await BlockingThread.run(name: "topics-check") {
            let described = try admin.describeTopics(timeout: timeout)
            let partitions = Dictionary(described.map { ($0.name, $0.partitions.count) }, uniquingKeysWith: { first, _ in first })
            let present = expected.map(\.name).filter { partitions[$0] != nil }
            do {
                let configs = try admin.topicConfigs(present, timeout: min(timeout, configsTimeout))
                return TopicCheck.compare(expected: expected, partitions: partitions, configs: configs)
            } catch {
                return TopicCheck.compare(
                    expected: expected, partitions: partitions, configs: nil,
                    configsProblem: "topic configs could not be read: \(error)")
            }
        }
    }

    /// Creates `topics`; the answer names each topic that could not be created and why.
    public func create(_ topics: [TopicSpec], timeout: Duration = .seconds(30)) async throws -> [String: KafkaError] {
        try await admin.createEachTopic(topics, timeout: timeout)
    }
}
