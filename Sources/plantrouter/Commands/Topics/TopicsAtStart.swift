import ArgumentParser
import Kafka
import Logging
import Policy
import Routing

/// What `plantrouter run` checks before it starts its lanes: every catalog topic exists
/// (its producers never create one, so a missing output or dead-letter topic would fail
/// every delivery to it), and drift is named with the fix.
enum TopicsAtStart {
    static func check(_ configuration: RouterConfiguration, configPath: String, catalog: Catalog, logger: Logger) async throws {
        let checks: [TopicCheck]
        do {
            let provisioner = try TopicProvisioner(cluster: configuration.kafka)
            checks = try await provisioner.check(TopicProvisioner.expected(catalog), timeout: .seconds(10))
        } catch {
            logger.warning("could not check the catalog's topics on \(configuration.cluster.bootstrapServers) (\(error)); starting anyway, lanes wait for the cluster")
            return
        }
        let missing = checks.filter { $0.status == .missing }.map(\.topic)
        if !missing.isEmpty {
            logger.critical("""
                \(missing.count) of the catalog's \(checks.count) topics are missing on \(configuration.cluster.bootstrapServers): \
                \(missing.joined(separator: ", ")). The router never creates topics (its producers set \
                allow.auto.create.topics=false, so no broker default applies). Create them with \
                `plantrouter topics apply --config \(configPath)` (add --replication-factor 1 on a one-broker cluster), then start again.
                """)
            throw ExitCode.failure
        }
        for check in checks where check.status == .drift {
            logger.warning("topic \(check.topic) differs from the catalog: \(check.differences.map { "\($0.setting) is \($0.actual ?? "unset"), catalog says \($0.expected)" }.joined(separator: ", ")); `plantrouter topics verify --config \(configPath)` shows how to fix it")
        }
        if let unverified = checks.compactMap(\.configsUnverified).first {
            logger.notice("catalog topics exist with the catalog's partitions; cleanup.policy and retention.ms not compared: \(unverified)")
        } else if checks.allSatisfy({ $0.status == .inSync }) {
            logger.info("all \(checks.count) catalog topics exist with the catalog's partitions, cleanup.policy and retention.ms")
        }
    }
}
