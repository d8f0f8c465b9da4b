import Foundation
import Kafka
import Ledger
import PlantSimulation
import Policy
import Routing
import Synchronization
import Testing

/// Where the repository's files are, found from this source file.
enum RepositoryPaths {
    /// Tests/RoutingTests/Support/Testbed.swift → the package root.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let topics = root.appendingPathComponent("Topics")
}

/// One test's world: a fresh EmbeddedCluster with the default catalog's topics, the
/// default policy, the simulated plant, a publisher and a temporary folder for ledgers.
final class Testbed: Sendable {
    let cluster: EmbeddedCluster
    let policy: PolicyHolder
    let simulator: PlantSimulator
    let publisher: Publisher
    let folder: URL

    var catalog: Catalog { policy.current.catalog }

    /// - Parameter skipping: catalog topics not to create.
    init(brokers: Int32 = 1, skipping: Set<String> = []) throws {
        cluster = try EmbeddedCluster(brokers: brokers, logger: testLogger)
        policy = try PolicyHolder(loadingFrom: RepositoryPaths.topics)
        simulator = PlantSimulator()
        try cluster.createTopics(policy.current.catalog.topics.filter { !skipping.contains($0.name) }.map { TopicSpec($0) })
        publisher = try Publisher(cluster: cluster.configuration)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("routing-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        publisher.close()
        try? FileManager.default.removeItem(at: folder)
    }

    func partitions(of topic: String) -> Int { catalog.topic(named: topic)?.partitions ?? 1 }

    /// The router configuration a test starts from: this cluster, the repository's Topics/,
    /// a ledger in the test's folder, and short fetch waits (the embedded brokers hold an
    /// empty fetch for the whole wait).
    func configuration(instanceID: String = "test", groupPrefix: String = "plantrouter") -> RouterConfiguration {
        var configuration = RouterConfiguration(
            bootstrapServers: cluster.bootstrapServers, topics: RepositoryPaths.topics.path,
            database: folder.appendingPathComponent("\(instanceID).sqlite").path)
        configuration.instanceID = instanceID
        configuration.groupPrefix = groupPrefix
        configuration.cluster.consumer["fetch.wait.max.ms"] = "10"
        return configuration
    }

    /// Publishes `events` and waits until every one is acknowledged, on a thread of its own so
    /// the wait never holds a thread of the cooperative pool; returns their tokens in order.
    @discardableResult
    func publish(_ events: [RawEvent]) async throws -> [UInt64] {
        try await onDedicatedThread { [self] in
            let tokens = try events.map { try publisher.send(Self.record($0)) }
            try publisher.flush()
            return tokens
        }
    }

    /// Publishes `events` at a steady `rate` per second from a thread of its own, then flushes.
    func publishPaced(_ events: [RawEvent], rate: Double) async throws {
        try await onDedicatedThread { [self] in
            let start = Date()
            for (index, event) in events.enumerated() {
                let due = start.addingTimeInterval(Double(index) / rate)
                if due > Date() { Thread.sleep(until: due) }
                try publisher.send(Self.record(event))
            }
            try publisher.flush()
        }
    }

    /// The MES work orders, so the correlation reader can load them.
    func publishWorkOrders() async throws { try await publish(simulator.workOrderEvents()) }

    static func record(_ event: RawEvent) -> ProducerRecord {
        ProducerRecord(
            topic: event.topic, key: event.key, value: event.value,
            headers: event.headers)
    }

    /// Starts a router in this process and waits until every lane has joined its group.
    func startRouter(_ configuration: RouterConfiguration) async throws -> Router {
        let ledger = try Ledger(path: configuration.database)
        let router = try Router(configuration: configuration, policy: policy, ledger: ledger, logger: testLogger)
        await router.start()
        let ready = await eventually(timeout: .seconds(30)) { router.isReady }
        if !ready { await router.stop() }
        try #require(ready, "lanes did not join their groups within 30 s")
        return router
    }

    /// Runs `body` with a started router and stops the router afterwards, also when `body` throws.
    func withRouter<Result>(
        _ configuration: RouterConfiguration, _ body: (Router) async throws -> Result
    ) async throws -> Result {
        let router = try await startRouter(configuration)
        do {
            let result = try await body(router)
            await router.stop()
            return result
        } catch {
            await router.stop()
            throw error
        }
    }

    /// A production confirmation as the MES posts it (the `confirmations-to-erp` rule routes it
    /// to ERP confirmations and inventory movements). Keyed by the work order id.
    func confirmation(id: String, workOrder: String, quantity: Int = 100) -> RawEvent {
        let body = #"{"workOrderId":"\#(workOrder)","line":"L1","product":"SKU-4711-500ML","quantity":\#(quantity),"unit":"EA","final":false}"#
        return RawEvent(
            topic: PlantSimulator.confirmationsTopic, key: Array(workOrder.utf8), value: Array(body.utf8),
            headers: [
                EventHeader("ce_specversion", "1.0"),
                EventHeader("ce_id", id),
                EventHeader("ce_source", simulator.plant.mesSource),
                EventHeader("ce_type", "production.confirmation.posted"),
                EventHeader("ce_time", RFC3339.format(1_772_352_000_000)),
                EventHeader("content-type", "application/json"),
            ])
    }

    /// A production count from a line gateway (routed to analytics.production, in the
    /// production lane's transactions). Keyed by the asset.
    func count(id: String, asset: String, good: Int = 60) -> RawEvent {
        let body = #"{"asset":"\#(asset)","line":"L1","good":\#(good),"scrap":1,"intervalSeconds":30}"#
        return RawEvent(
            topic: PlantSimulator.countsTopic, key: Array(asset.utf8), value: Array(body.utf8),
            headers: [
                EventHeader("ce_specversion", "1.0"),
                EventHeader("ce_id", id),
                EventHeader("ce_source", "plant/hamburg/gateway/l1"),
                EventHeader("ce_type", "production.count.reported"),
                EventHeader("ce_time", RFC3339.format(1_772_352_000_000)),
                EventHeader("content-type", "application/json"),
            ])
    }

    /// A telemetry reading routed to analytics only.
    func reading(id: String, asset: String = "L1-FILL1", metric: String = "temperature", value: Double = 61.5) -> RawEvent {
        let body = #"{"asset":"\#(asset)","line":"L1","metric":"\#(metric)","value":\#(value),"unit":"Cel","quality":"good"}"#
        return RawEvent(
            topic: PlantSimulator.telemetryTopic, key: Array(asset.utf8), value: Array(body.utf8),
            headers: [
                EventHeader("ce_specversion", "1.0"),
                EventHeader("ce_id", id),
                EventHeader("ce_source", "plant/hamburg/gateway/l1"),
                EventHeader("ce_type", "plant.telemetry.reading"),
                EventHeader("ce_time", RFC3339.format(1_772_352_000_000)),
                EventHeader("content-type", "application/json"),
            ])
    }
}
