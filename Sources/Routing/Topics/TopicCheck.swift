import Foundation
import Kafka

/// How one catalog topic compares with the cluster: missing, in sync, or drifted
/// (partitions, `cleanup.policy`, `retention.ms`). Replication is not compared: it is
/// overridable for small clusters and Kafka does not change it after creation anyway.
public struct TopicCheck: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        case inSync = "in-sync"
        case missing
        case drift
    }

    /// One setting whose value on the cluster differs from the catalog's.
    public struct Difference: Sendable, Equatable, Codable {
        public var setting: String
        public var expected: String
        /// nil when the cluster reports no value for the topic.
        public var actual: String?

        public init(setting: String, expected: String, actual: String?) {
            self.setting = setting
            self.expected = expected
            self.actual = actual
        }
    }

    public var expected: TopicSpec
    public var status: Status
    /// Partitions on the cluster, nil when the topic is missing.
    public var actualPartitions: Int?
    public var differences: [Difference]
    /// Why the topic configs could not be compared (DescribeConfigs refused or unsupported);
    /// nil when they were.
    public var configsUnverified: String?

    public var topic: String { expected.name }

    /// Compares each expected topic with what the cluster has. `configs` is nil when
    /// they could not be read (`configsProblem` says why): partitions are still compared.
    public static func compare(
        expected: [TopicSpec], partitions: [String: Int], configs: [String: TopicConfigs]?, configsProblem: String? = nil
    ) -> [TopicCheck] {
        expected.map { spec in
            guard let actual = partitions[spec.name] else {
                return TopicCheck(expected: spec, status: .missing, actualPartitions: nil, differences: [], configsUnverified: nil)
            }
            var differences: [Difference] = []
            if actual != Int(spec.partitions) {
                differences.append(Difference(setting: "partitions", expected: String(spec.partitions), actual: String(actual)))
            }
            var unverified: String?
            if let configs {
                let topicConfigs = configs[spec.name]
                for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                    let found = topicConfigs?[key]
                    if !sameValue(key, value, found) {
                        differences.append(Difference(setting: key, expected: value, actual: found))
                    }
                }
            } else if !spec.configs.isEmpty {
                unverified = configsProblem ?? "topic configs not read"
            }
            return TopicCheck(
                expected: spec, status: differences.isEmpty ? .inSync : .drift, actualPartitions: actual,
                differences: differences, configsUnverified: unverified)
        }
    }

    /// `cleanup.policy` is a list ("compact,delete" equals "delete, compact").
    private static func sameValue(_ key: String, _ expected: String, _ actual: String?) -> Bool {
        guard let actual else { return false }
        guard key == TopicSpec.cleanupPolicy else { return actual == expected }
        func set(_ text: String) -> Set<String> {
            Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return set(actual) == set(expected)
    }
}
