import ArgumentParser
import Foundation
import Kafka
import Logging
import Routing

/// Options `topics verify` and `topics apply` share.
struct TopicsClusterOptions: ParsableArguments {
    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Replication factor for every topic instead of the catalog's (e.g. 1 on a one-broker development cluster).")
    var replicationFactor: Int32?

    @Flag(help: "One JSON object per topic on standard output (JSON Lines); logs go to standard error.")
    var json = false

    @Option(help: "Seconds to wait for the cluster's answers.")
    var timeout: Int = 15

    @Option(help: "Log level of the Kafka client's messages (standard error): trace … critical.")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        if let replicationFactor, !(1...16).contains(replicationFactor) {
            throw ValidationError("--replication-factor must be 1…16 (the catalog allows the same range), not \(replicationFactor)")
        }
        guard (1...600).contains(timeout) else { throw ValidationError("--timeout must be 1…600 seconds, not \(timeout)") }
    }

    /// How to name this cluster in a hint (`--config FILE` or `--bootstrap HOST:PORT`), with the
    /// replication override the operator gave, so the printed command does what they asked.
    var reuse: String {
        let cluster = cluster.config.map { "--config \($0)" } ?? "--bootstrap \(cluster.bootstrap ?? "HOST:PORT")"
        return cluster + (replicationFactor.map { " --replication-factor \($0)" } ?? "")
    }
}

/// Exit codes of `topics verify|apply` (as `terraform plan -detailed-exitcode`): scripts can
/// tell "nothing to do" from "something differs" from "could not tell".
enum TopicsExit {
    static let inSync: Int32 = 0
    static let error: Int32 = 1
    static let driftOrMissing: Int32 = 2
}

/// One line of `topics verify|apply` output: a topic, how it compares, and what was done.
struct TopicLine: Encodable {
    struct Partitions: Encodable {
        var expected: Int32
        var actual: Int?
    }

    var topic: String
    /// in-sync, missing, drift (after `apply`: the state the cluster was left in).
    var status: String
    var partitions: Partitions
    var replicationFactor: Int32
    var configs: [String: String]
    var differences: [TopicCheck.Difference]
    /// Set when topic configs could not be compared (partitions still were).
    var configsUnverified: String?
    /// `apply` only: create (planned by --dry-run), created, failed, none.
    var action: String?
    var error: String?

    init(_ check: TopicCheck, action: String? = nil, error: String? = nil) {
        topic = check.topic
        status = check.status.rawValue
        partitions = Partitions(expected: check.expected.partitions, actual: check.actualPartitions)
        replicationFactor = check.expected.replicationFactor
        configs = check.expected.configs
        differences = check.differences
        configsUnverified = check.configsUnverified
        self.action = action
        self.error = error
    }
}

enum TopicsOutput {
    static func printJSONLines(_ lines: [TopicLine]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for line in lines { print(String(decoding: try encoder.encode(line), as: UTF8.self)) }
    }

    static func printTable(_ lines: [TopicLine], showAction: Bool) {
        let header = ["TOPIC", "STATUS"] + (showAction ? ["ACTION"] : []) + ["PARTITIONS", "CLEANUP", "RETENTION.MS", "DIFFERENCES"]
        let rows = lines.map { line -> [String] in
            let partitions = line.partitions.actual.map { $0 == Int(line.partitions.expected) ? "\($0)" : "\($0) (want \(line.partitions.expected))" }
                ?? "- (want \(line.partitions.expected))"
            var notes = line.differences.filter { $0.setting != "partitions" }.map { "\($0.setting) \($0.actual ?? "unset") → want \($0.expected)" }
            if line.configsUnverified != nil { notes.append("configs unverified") }
            if let error = line.error { notes.append(error) }
            return [line.topic, line.status] + (showAction ? [line.action ?? ""] : [])
                + [partitions, line.configs[TopicSpec.cleanupPolicy] ?? "", line.configs[TopicSpec.retentionMs] ?? "-", notes.joined(separator: "; ")]
        }
        print(Table(header: header, rows: rows).rendered)
    }

    /// The closing summary and how to fix what is not in sync (standard error under --json).
    static func summary(_ checks: [TopicCheck], reuse: String, toStandardError: Bool) {
        let missing = checks.filter { $0.status == .missing }
        let drifted = checks.filter { $0.status == .drift }
        var text = "\(checks.count) catalog topics: \(checks.count - missing.count - drifted.count) in sync, \(missing.count) missing, \(drifted.count) drifted"
        if let unverified = checks.compactMap(\.configsUnverified).first {
            text += "\nnote: cleanup.policy and retention.ms not compared (\(unverified)); partitions were"
        }
        if !missing.isEmpty {
            text += "\ncreate the missing topics with: plantrouter topics apply \(reuse)"
        }
        for check in drifted {
            text += "\n" + fixHint(check)
        }
        if toStandardError {
            var stderr = StandardError()
            print(text, to: &stderr)
        } else {
            print(text)
        }
    }

    /// `apply` never changes an existing topic; these are the commands an operator would run.
    static func fixHint(_ check: TopicCheck) -> String {
        var hints: [String] = []
        let configs = check.differences.filter { $0.setting != "partitions" }
        if !configs.isEmpty {
            let pairs = configs.map { "\($0.setting)=\($0.expected.contains(",") ? "[\($0.expected)]" : $0.expected)" }.joined(separator: ",")
            hints.append("kafka-configs.sh --alter --entity-type topics --entity-name \(check.topic) --add-config \(pairs)")
        }
        if let partitions = check.differences.first(where: { $0.setting == "partitions" }) {
            if let actual = partitions.actual.flatMap(Int.init), let wanted = Int(partitions.expected), actual < wanted {
                hints.append("kafka-topics.sh --alter --topic \(check.topic) --partitions \(wanted) (moves keys to other partitions: per-key order breaks across the change)")
            } else {
                hints.append("partitions cannot be reduced: recreate \(check.topic) with \(partitions.expected) partitions, or set the catalog to \(partitions.actual ?? "?")")
            }
        }
        return "drift on \(check.topic): " + hints.joined(separator: "; ")
    }
}
