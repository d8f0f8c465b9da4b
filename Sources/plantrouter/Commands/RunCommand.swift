import Admin
import ArgumentParser
import Foundation
import Ledger
import Logging
import Policy
import Replay
import Routing
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Route plant topics to enterprise topics on an existing Kafka cluster.",
        discussion: """
            The configuration file names the cluster (with any librdkafka properties), the Topics/ \
            directory, the SQLite ledger and the admin endpoint; see Deploy/plantrouter.yaml. \
            SIGTERM or SIGINT finishes in-flight work, commits and exits.
            """
    )

    @Option(name: .shortAndLong, help: "Router configuration (YAML).")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        AllocatorTuning.apply()
        LoggingSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "plantrouter")
        let configuration = try RouterConfiguration.load(path: config)
        let policy: PolicyHolder
        do {
            policy = try PolicyHolder(loadingFrom: URL(fileURLWithPath: configuration.topics))
        } catch {
            throw ValidationError("policy in \(configuration.topics) does not load:\n\(error)")
        }
        let tokens: AdminTokens
        do {
            tokens = try AdminTokens.load(file: configuration.admin.tokensFile)
        } catch {
            throw ValidationError("\(error)")
        }
        for (property, scope) in configuration.kafka.singleKindSharedProperties {
            let section = scope == .consumer ? "consumer" : "producer"
            logger.notice("cluster.properties.\(property) applies to \(section)s only and is passed to them only; move it under cluster.\(section) in \(config)")
        }
        try await TopicsAtStart.check(configuration, configPath: config, catalog: policy.current.catalog, logger: logger)
        // Before the router exists: its lanes' metrics must reach Prometheus, not the no-op backend.
        _ = AdminMetrics.registry
        AdminMetrics.recordBuildInfo(version: PlantRouterVersion.number)
        let ledger = try Ledger(path: configuration.database)
        let router = try Router(configuration: configuration, policy: policy, ledger: ledger, logger: logger)
        let replays = ReplayJobs(ledger: ledger, cluster: configuration.kafka, policy: policy, logger: logger)
        let admin = AdminServer(
            dependencies: .init(router: router, policy: policy, ledger: ledger, replays: replays, tokens: tokens),
            host: configuration.admin.host, port: configuration.admin.port, logger: Logger(label: "plantrouter.admin"))
        // Port 0 lets the system choose; Hummingbird's "listening on" line then names the port.
        let address = configuration.admin.port == 0
            ? "\(configuration.admin.host), a port the system chooses"
            : "http://\(configuration.admin.host):\(configuration.admin.port)"
        logger.info("admin API on \(address) (\(tokens.count) tokens)")
        logger.info("plantrouter \(PlantRouterVersion.current), policy \(policy.current.version), cluster \(configuration.cluster.bootstrapServers)")
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: router), .init(service: admin)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
