import ArgumentParser
import Foundation
import Kafka
import Ledger
import Logging
import PlantSimulation
import Policy
import Routing
import Synchronization

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated plant through the router on an embedded Kafka cluster, then summarise.",
        discussion: """
            Starts librdkafka's in-process cluster (3 brokers on loopback), creates the catalog's topics, \
            publishes MES work orders and a small plant's traffic (readings, downtime, defects, \
            confirmations, the packaging-line slowdown and a few poison events), routes it with the \
            default policy and prints what went where. Nothing outside this process is touched except \
            the ledger file, which `plantrouter trace` reads afterwards.
            """
    )

    @Option(help: "Topics/ directory with catalog, schemas and policy.")
    var topics = "Topics"

    @Option(help: "Plant events to simulate.")
    var events = 50_000

    @Option(help: "Events per second the simulated plant sends.")
    var rate = 5_000

    @Option(help: "One poison event every N events (0: none).")
    var poisonEvery = 2_000

    @Option(help: "SQLite ledger to write (replaced at start).")
    var database = "plantrouter-demo.sqlite"

    @Option(help: "Log level for diagnostics on standard error.")
    var logLevel: Logger.Level = .error

    func run() async throws {
        LoggingSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "plantrouter.demo")
        let started = ContinuousClock.now
        let policy = try loadPolicy()
        let catalog = policy.current.catalog

        print("Starting an embedded Kafka cluster (3 brokers) …")
        let cluster = try EmbeddedCluster(brokers: 3)
        try cluster.createTopics(catalog.topics.map { TopicSpec($0) })
        print("  \(cluster.bootstrapServers): \(catalog.topics.count) topics from \(topics)/catalog.yaml, policy \(policy.current.version)")

        var simulation = PlantSimulator.Configuration()
        simulation.count = events
        simulation.poisonEvery = poisonEvery > 0 ? poisonEvery : nil
        let simulator = PlantSimulator(simulation)
        var publisherConfiguration = ProducerConfiguration(client: cluster.configuration)
        // The simulation includes 1 MB poison bodies, which must reach the router to be dead-lettered.
        publisherConfiguration.client.properties["message.max.bytes"] = "4000000"
        let publisher = TrafficPublisher(producer: try Producer(configuration: publisherConfiguration, logger: logger))
        try publisher.publish(simulator.workOrderEvents())
        print("  published \(simulator.plant.workOrders.count) MES work orders to \(PlantSimulator.workOrderTopic)")

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        var configuration = RouterConfiguration(bootstrapServers: cluster.bootstrapServers, topics: topics, database: database)
        configuration.instanceID = "demo"
        configuration.groupPrefix = "plantrouter-demo"
        // The embedded brokers hold an empty fetch for the whole wait instead of answering
        // when data arrives, as real brokers do; a short wait keeps latency honest.
        configuration.cluster.consumer["fetch.wait.max.ms"] = "10"
        let ledger = try Ledger(path: database)
        let router = try Router(configuration: configuration, policy: policy, ledger: ledger, logger: logger)
        await router.start()
        // Lanes join their consumer groups first, so latency figures show routing, not the join.
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while !router.isReady, ContinuousClock.now < joinDeadline { try await Task.sleep(for: .milliseconds(100)) }
        print("Router running \(router.lanes.count) lanes: \(router.lanes.map(\.name).joined(separator: ", "))")

        let plantEvents = simulator.events()
        print("Publishing \(plantEvents.count) plant events at \(rate)/s (\(Int(simulation.telemetryShare * 100))% telemetry, a poison event every \(poisonEvery)) …\n")
        let outcome = PublishOutcome()
        Task.detached {
            do { try publisher.publish(plantEvents, rate: rate) } catch { outcome.failed(error) }
        }
        try await followProgress(router, expected: plantEvents.count, since: started, publishing: outcome)
        await router.stop()
        try publisher.producer.close()

        let elapsed = ContinuousClock.now - started
        printSummary(router: router, catalog: catalog, ledger: ledger, simulator: simulator, elapsed: elapsed)
    }

    private func loadPolicy() throws -> PolicyHolder {
        do {
            return try PolicyHolder(loadingFrom: URL(fileURLWithPath: topics))
        } catch {
            throw ValidationError("the policy in \(topics) does not load (run `plantrouter policy check --topics \(topics)`):\n\(error)")
        }
    }

    /// Prints a progress line each second until every event is consumed and every output acknowledged.
    private func followProgress(
        _ router: Router, expected: Int, since started: ContinuousClock.Instant, publishing: PublishOutcome
    ) async throws {
        var lastProduced = -1
        var stableRounds = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            if let error = publishing.error { throw ValidationError("publishing the simulated plant failed: \(error)") }
            let lanes = router.lanes.map(\.statistics.counters)
            let consumed = lanes.map(\.consumed).reduce(0, +)
            let produced = lanes.map(\.produced).reduce(0, +)
            let seconds = Double((ContinuousClock.now - started).components.seconds)
            print(String(format: "  %4.0fs  consumed %7d / %d   workflow %5d   analytics %7d   dead-lettered %4d   produced %7d",
                         seconds, consumed, expected, lanes.map(\.workflow).reduce(0, +), lanes.map(\.analytics).reduce(0, +),
                         lanes.map(\.deadLettered).reduce(0, +), produced))
            stableRounds = (consumed >= expected && produced == lastProduced) ? stableRounds + 1 : 0
            lastProduced = produced
            if stableRounds >= 1 { return }
        }
        print("  (stopped waiting after 120 s)")
    }

    private func printSummary(router: Router, catalog: Catalog, ledger: Ledger, simulator: PlantSimulator, elapsed: Duration) {
        RoutingSummary.print(router: router, catalog: catalog)

        let order = simulator.plant.workOrder(for: PlantModel.slowdownAssetID)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let unwritten = router.unwrittenAuditRecords
        if unwritten == 0 {
            print(String(format: "\nDone in %.1f s. Audit trail written to %@.", seconds, database))
        } else {
            print(String(format: "\nDone in %.1f s. The audit trail in %@ is INCOMPLETE: %d records could not be written (%@).", seconds, database, unwritten, router.ledgerProblem ?? "ledger failing"))
        }
        if let order {
            // The order's trail: the slowdown and every event that names the order.
            var slowdownOutputs = 0, confirmations = 0, quality = 0, counts = 0, deadLetters = 0
            try? ledger.trail(TrailQuery(id: order.id)) { record, _ in
                if record.ruleID == "packaging-line-slowdown" { slowdownOutputs += record.outputs.count }
                if record.outcome == .deadLetter { deadLetters += 1 }
                switch record.eventType {
                case "production.confirmation.posted": confirmations += 1
                case "production.count.reported": counts += 1
                case let type where type.hasPrefix("quality."): quality += 1
                default: break
                }
                return true
            }
            print("The packaging-line slowdown on \(order.asset) raised \(slowdownOutputs) workflow events for work order \(order.id).")
            print("Its trail also holds \(confirmations) confirmations (to ERP), \(quality) quality results, \(counts) counts and \(deadLetters) dead letters.")
            print("See it with (--json for JSON Lines, --type/--outcome/--since to narrow it):\n\n    plantrouter trace \(order.id) --database \(database)\n")
        }
    }
}

/// How the background publishing ended, readable while it runs.
final class PublishOutcome: Sendable {
    private let failure = Mutex<String?>(nil)
    var error: String? { failure.withLock { $0 } }
    func failed(_ error: any Error) { failure.withLock { $0 = "\(error)" } }
}
