import Foundation
import Kafka
import Ledger
import Logging
import PlantSimulation
import Policy
import Routing

/// The enterprise side of the edge demo: the router on the plant topics the edge forwarded to,
/// with the MES work orders published first as in `plantrouter demo`.
enum CentralRouter {
    static func start(cluster: EmbeddedCluster, policy: LoadedPolicy, topics: String, events: Int, folder: URL, logger: Logger) async throws -> Router {
        var simulation = PlantSimulator.Configuration()
        simulation.count = events
        let publisher = TrafficPublisher(producer: try Producer(configuration: ProducerConfiguration(client: cluster.configuration), logger: logger))
        try publisher.publish(PlantSimulator(simulation).workOrderEvents())
        try publisher.producer.close()

        let database = folder.appendingPathComponent("ledger.sqlite").path
        var configuration = RouterConfiguration(bootstrapServers: cluster.bootstrapServers, topics: topics, database: database)
        configuration.instanceID = "edge-demo"
        configuration.groupPrefix = "plantrouter-edge-demo"
        // As in `plantrouter demo`: the embedded brokers hold an empty fetch for the whole wait.
        configuration.cluster.consumer["fetch.wait.max.ms"] = "10"
        let router = try Router(configuration: configuration, policy: PolicyHolder(policy), ledger: try Ledger(path: database), logger: logger)
        await router.start()
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while !router.isReady, ContinuousClock.now < joinDeadline { try await Task.sleep(for: .milliseconds(100)) }
        return router
    }

    /// Waits (at most 60 s) until the router consumed `expected` events and its produced count
    /// held still for a second, then stops it.
    static func finish(_ router: Router, expected: Int) async {
        let deadline = ContinuousClock.now + .seconds(60)
        var lastProduced = -1
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(1))
            let lanes = router.lanes.map(\.statistics.counters)
            let consumed = lanes.map(\.consumed).reduce(0, +)
            let produced = lanes.map(\.produced).reduce(0, +)
            if consumed >= expected, produced == lastProduced { break }
            lastProduced = produced
        }
        await router.stop()
    }
}
