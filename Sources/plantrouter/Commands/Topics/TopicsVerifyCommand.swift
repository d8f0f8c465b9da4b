import ArgumentParser
import Kafka
import Routing

struct TopicsVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare the catalog's topics with the cluster: missing topics, partitions, cleanup.policy, retention.ms.",
        discussion: """
            Changes nothing. Exit status: 0 every topic in sync, 2 a topic missing or drifted, \
            1 the cluster or the catalog could not be read.
            """
    )

    @OptionGroup var options: TopicsClusterOptions

    func run() async throws {
        let (checks, _) = try await readChecks(options)
        let lines = checks.map { TopicLine($0) }
        if options.json { try TopicsOutput.printJSONLines(lines) } else { TopicsOutput.printTable(lines, showAction: false) }
        TopicsOutput.summary(checks, reuse: options.reuse, toStandardError: options.json)
        if checks.contains(where: { $0.status != .inSync }) { throw ExitCode(TopicsExit.driftOrMissing) }
    }
}

/// Loads the catalog named by the options and compares it with the cluster; exits 1 with
/// the reason when either cannot be read.
func readChecks(_ options: TopicsClusterOptions) async throws -> ([TopicCheck], TopicProvisioner) {
    LoggingSetup.bootstrap(level: options.logLevel)
    let resolved = try options.cluster.resolve()
    let policy = try loadTopicsOrExit(resolved.topics)
    let expected = TopicProvisioner.expected(policy.catalog, replicationFactor: options.replicationFactor)
    do {
        let provisioner = try TopicProvisioner(cluster: resolved.cluster)
        return (try await provisioner.check(expected, timeout: .seconds(options.timeout), configsTimeout: .seconds(options.timeout)), provisioner)
    } catch {
        var stderr = StandardError()
        print("cannot read topics from \(resolved.cluster.bootstrapServers): \(error)\ncheck bootstrapServers and the security properties in the configuration, and that the cluster is up", to: &stderr)
        throw ExitCode(TopicsExit.error)
    }
}
