import ArgumentParser
import Foundation
import Kafka
import Ledger
import Logging
import PlantSimulation
import Policy
import Routing
import Synchronization

/// Routed events/s through the default policy on the embedded cluster, beside a
/// raw consume → produce pipe with no processing over the same input in the
/// same run; then end-to-end latency at a fixed rate.
struct RouterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Router throughput against a raw consume→produce pipe, and latency at a fixed rate (embedded cluster)."
    )

    @Option(help: "Plant events per throughput run (95% telemetry).")
    var events = 100_000

    @Option(help: "Runs per contender; medians are reported.")
    var runs = 3

    @Option(help: "Events per second for the latency run.")
    var rate = 10_000

    @Option(help: "Seconds of traffic in the latency run.")
    var latencySeconds = 10

    @Option(help: "Topics/ directory.")
    var topics = "Topics"

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        let policy = try PolicyHolder(loadingFrom: URL(fileURLWithPath: topics))
        var simulation = PlantSimulator.Configuration()
        simulation.count = events
        let simulator = PlantSimulator(simulation)
        let workOrders = simulator.workOrderEvents()
        let plantEvents = simulator.events()
        print("plantrouter-bench router: \(plantEvents.count) events (95% telemetry), \(runs) runs, librdkafka \(KafkaVersion.librdkafka)")

        var pipeRates: [Double] = []
        var routerRates: [Double] = []
        for run in 1...runs {
            let pipe = try rawPipe(policy: policy.current, workOrders: workOrders, events: plantEvents)
            let routed = try await router(policy: policy, workOrders: workOrders, events: plantEvents, rate: nil)
            print(String(format: "  run %d: raw pipe %8.0f events/s   router %8.0f events/s", run, pipe, routed.rate))
            pipeRates.append(pipe)
            routerRates.append(routed.rate)
        }
        let pipe = median(pipeRates)
        let routed = median(routerRates)
        print(String(format: "\nthroughput (median)  raw pipe %.0f events/s  router %.0f events/s  router/raw %.2f  (target ≥ 0.50)", pipe, routed, routed / pipe))

        var latencyConfiguration = PlantSimulator.Configuration()
        latencyConfiguration.count = rate * latencySeconds
        latencyConfiguration.seed = 7
        let paced = PlantSimulator(latencyConfiguration)
        let latency = try await router(policy: policy, workOrders: paced.workOrderEvents(), events: paced.events(), rate: rate)
        print("\nend-to-end latency at \(rate) events/s for \(latencySeconds) s (source record timestamp → output acknowledged):")
        for lane in latency.lanes {
            print(String(format: "  %-10@ p50 %7.1f ms   p99 %7.1f ms   (%d events)", lane.lane as NSString, lane.latencyP50Ms ?? .nan, lane.latencyP99Ms ?? .nan, lane.consumed))
        }
    }

    /// A cluster with the catalog's topics, the work orders and (unless paced) every event already published.
    private func prepareCluster(policy: LoadedPolicy, workOrders: [RawEvent]) throws -> EmbeddedCluster {
        let cluster = try EmbeddedCluster(brokers: 3)
        try cluster.createTopics(policy.catalog.topics.map { TopicSpec($0) })
        try cluster.createTopic("bench.raw.out", partitions: 12)
        try publish(workOrders, to: cluster, rate: nil)
        return cluster
    }

    private func publish(_ events: [RawEvent], to cluster: EmbeddedCluster, rate: Int?) throws {
        var configuration = ProducerConfiguration(client: cluster.configuration)
        configuration.client.properties["message.max.bytes"] = "4000000"
        let producer = try Producer(configuration: configuration)
        let start = ContinuousClock.now
        for (index, event) in events.enumerated() {
            if let rate, index % 50 == 0 {
                let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                let wait = due - .now
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18) }
            }
            try producer.produceWaitingForRoom(ProducerRecord(event))
        }
        try producer.close(timeout: .seconds(60))
    }

    /// Consume every source record and produce its bytes unchanged: the ceiling.
    private func rawPipe(policy: LoadedPolicy, workOrders: [RawEvent], events: [RawEvent]) throws -> Double {
        let cluster = try prepareCluster(policy: policy, workOrders: workOrders)
        try publish(events, to: cluster, rate: nil)
        let sources = policy.catalog.topics.filter { $0.role == .source }.map(\.name)
        var consumerConfiguration = ConsumerConfiguration(client: cluster.configuration, groupID: "bench-raw")
        consumerConfiguration.client.properties["fetch.wait.max.ms"] = "10"
        let consumer = try Consumer(configuration: consumerConfiguration)
        try consumer.subscribe(sources)
        let delivered = DeliveryCounter()
        let producer = try Producer(configuration: ProducerConfiguration(client: cluster.configuration)) { _ in delivered.add() }
        var consumed = 0
        var start: ContinuousClock.Instant?
        while consumed < events.count {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            if start == nil, !batch.records.isEmpty { start = .now }
            for record in batch.records {
                try producer.produceWaitingForRoom(ProducerRecord(topic: "bench.raw.out", key: record.key, value: record.value, headers: record.headers))
            }
            consumed += batch.records.count
            if !batch.records.isEmpty { try consumer.store(batch.records.map(\.nextOffset)) }
        }
        try producer.flush(timeout: .seconds(60))
        let elapsed = ContinuousClock.now - start!
        try consumer.commit()
        try consumer.close()
        try producer.close()
        return Double(consumed) / elapsed.seconds
    }

    /// Runs the router over the events; throughput from the first record consumed to the last output acknowledged.
    private func router(policy: PolicyHolder, workOrders: [RawEvent], events: [RawEvent], rate: Int?) async throws
        -> (rate: Double, lanes: [LaneStatistics.Snapshot])
    {
        let cluster = try prepareCluster(policy: policy.current, workOrders: workOrders)
        if rate == nil { try publish(events, to: cluster, rate: nil) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RouterConfiguration(
            bootstrapServers: cluster.bootstrapServers, topics: topics, database: folder.appendingPathComponent("ledger.sqlite").path)
        configuration.instanceID = "bench"
        configuration.cluster.properties["fetch.wait.max.ms"] = "10"
        let router = try Router(
            configuration: configuration, policy: policy, ledger: try Ledger(path: configuration.database),
            logger: Logger(label: "bench"))
        await router.start()
        while !router.isReady { try await Task.sleep(for: .milliseconds(20)) }
        if let rate {
            let paced = events
            try await Task.detached { try publish(paced, to: cluster, rate: rate) }.value
        }
        var start: ContinuousClock.Instant?
        var lastProgress = ContinuousClock.now
        var lastProduced = -1
        while true {
            let lanes = router.lanes.map(\.statistics.counters)
            let consumed = lanes.map(\.consumed).reduce(0, +)
            let produced = lanes.map(\.produced).reduce(0, +)
            if start == nil, consumed > 0 { start = .now }
            if produced != lastProduced { lastProduced = produced; lastProgress = .now }
            if consumed >= events.count, ContinuousClock.now - lastProgress > .milliseconds(300) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = lastProgress - (start ?? lastProgress)
        let lanes = router.lanes.map(\.statistics.snapshot)
        await router.stop()
        return (Double(events.count) / max(elapsed.seconds, 0.001), lanes)
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}

final class DeliveryCounter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
