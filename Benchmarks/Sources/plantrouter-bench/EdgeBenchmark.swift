import ArgumentParser
import Edge
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import PlantSimulation
import Policy
import Synchronization

/// `plantrouter edge` end to end, per run on a fresh spool file:
/// (a) ingest: concurrent gateways POST batched CloudEvents (`application/cloudevents-batch+json`)
///     to a real `EdgeNode` serving HTTP in this process, each answered 202 only once durable;
/// (b) drain: a `Forwarder` empties that pre-filled spool to the broker, rate cap lifted;
/// (c) baseline: the same records, read from the spool beforehand, produced in a tight loop
///     with the forwarder's producer settings (idempotent, same compression per topic).
struct EdgeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge",
        abstract: "Edge store-and-forward: HTTP ingest into the spool, drain to the broker beside a produce loop of the same records."
    )

    @Option(help: "Events per run (the simulated plant's mix).")
    var events = 100_000

    @Option(help: "Events per HTTP request (cloudevents-batch+json).")
    var batch = 200

    @Option(help: "Concurrent gateway clients.")
    var clients = 4

    @Option(help: "Runs; medians are reported.")
    var runs = 3

    @Option(help: "Bootstrap servers of the broker to drain to (Benchmarks/edge.sh starts tansu). Default: a 3-broker embedded cluster.")
    var bootstrap: String?

    @Option(help: "Topics/ folder: the contract the edge checks events against.")
    var topics = "Topics"

    @Option(help: "Forwarder in-flight window (edge.yaml drain.inFlight).")
    var inFlight = 5000

    @Option(help: "SQLite synchronous for the spool: full (default, what edge.yaml ships) or normal.")
    var synchronous = "full"

    @Option(help: "Partitions per topic when the benchmark creates the catalog's topics.")
    var partitions: Int32 = 3

    func run() async throws {
        guard events > 0, batch > 0, clients > 0, runs > 0 else { throw ValidationError("events, batch, clients and runs must be positive") }
        let topicsURL = URL(fileURLWithPath: topics)
        let policy = try TopicsDirectory.load(at: topicsURL)
        let topicNames = policy.catalog.topics.filter { $0.role == .source || $0.role == .deadLetter }.map(\.name)
        var cluster: EmbeddedCluster?
        let servers: String
        if let bootstrap {
            servers = bootstrap
            try await Admin(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: quietLogger)
                .createTopics(topicNames.map { TopicSpec(name: $0, partitions: partitions, replicationFactor: 1) }, ignoreExisting: true)
        } else {
            let embedded = try EmbeddedCluster(brokers: 3, logger: quietLogger)
            try embedded.createTopics(topicNames.map { TopicSpec(name: $0, partitions: partitions, replicationFactor: 1) })
            servers = embedded.bootstrapServers
            cluster = embedded
        }
        let bodies = EdgeTraffic.batches(events: events, batch: batch)
        print("edge: \(events) events per run in requests of \(batch), \(clients) clients, \(runs) runs, synchronous=\(synchronous), "
            + "inFlight \(inFlight), broker \(bootstrap ?? "embedded (3 brokers)"), librdkafka \(KafkaVersion.librdkafka)")

        var results: [EdgeRun] = []
        for run in 1...runs {
            let result = try await once(servers: servers, topicsURL: topicsURL, bodies: bodies)
            results.append(result)
            print(String(format: "  run %d: ingest %8.0f ev/s (%.1f us CPU/ev, process incl. clients)  drain %8.0f ev/s (%.1f us CPU/ev)  produce loop %8.0f ev/s (%.1f us CPU/ev)  drain/produce %.2f",
                         run, result.ingest, result.ingestCPU, result.drain, result.drainCPU, result.produce, result.produceCPU, result.drain / result.produce))
        }
        withExtendedLifetime(cluster) {}
        let ingest = median(results.map(\.ingest)), drain = median(results.map(\.drain)), produce = median(results.map(\.produce))
        print("")
        print("| medians of \(results.count) runs | events/s | CPU µs/event | target | ratio |")
        print("|---|---:|---:|---:|---:|")
        print(String(format: "| HTTP ingest → spool (%d/request, %d clients) | %.0f | %.1f | ≥ 50,000 | %.2f× target |",
                     batch, clients, ingest, median(results.map(\.ingestCPU)), ingest / 50_000))
        print(String(format: "| drain spool → broker | %.0f | %.1f | ≥ 0.7× produce | %.2f× produce |", drain, median(results.map(\.drainCPU)), drain / produce))
        print(String(format: "| produce loop, same records and settings | %.0f | %.1f | | |", produce, median(results.map(\.produceCPU))))
    }

    private func once(servers: String, topicsURL: URL, bodies: [[UInt8]]) async throws -> EdgeRun {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("edge-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = EdgeConfiguration(bootstrapServers: servers, topics: topicsURL, spool: folder.appendingPathComponent("spool.sqlite"))
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.synchronousFull = synchronous != "normal"
        configuration.inFlight = inFlight
        // (a) The forwarder is throttled to 1 event/s: ingest is measured alone and the spool stays full.
        configuration.drainRate = 1
        let token = "bench-gateway"
        let node = try EdgeNode(configuration: configuration, tokens: GatewayTokens([token: "bench"]), logger: quietLogger)
        let bound = Mutex<Int?>(nil)
        let server = Task { try await node.run(signals: false) { port in bound.withLock { $0 = port } } }
        let deadline = ContinuousClock.now + .seconds(30)
        while bound.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard let port = bound.withLock({ $0 }), let url = URL(string: "http://127.0.0.1:\(port)/v1/events") else {
            server.cancel()
            throw ValidationError("the edge did not start listening")
        }
        let session = URLSession(configuration: {
            let c = URLSessionConfiguration.ephemeral
            c.httpMaximumConnectionsPerHost = clients
            return c
        }())
        let cpu0 = processCPU(), start = ContinuousClock.now
        let clientCount = clients
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clientCount {
                group.addTask {
                    for index in stride(from: client, to: bodies.count, by: clientCount) {
                        var request = URLRequest(url: url)
                        request.httpMethod = "POST"
                        request.httpBody = Data(bodies[index])
                        request.setValue("application/cloudevents-batch+json", forHTTPHeaderField: "Content-Type")
                        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                        let (data, response) = try await session.data(for: request)
                        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                        guard status == 202 else {
                            throw ValidationError("ingest answered \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let ingestWall = seconds(ContinuousClock.now - start), ingestCPU = processCPU() - cpu0
        session.invalidateAndCancel()
        server.cancel()
        _ = try? await server.value

        // (b) and (c) on their own thread: the forwarder and the produce loop block.
        let spoolPath = configuration.spool.path, quota = configuration.quota, synchronousFull = configuration.synchronousFull
        let producerConfiguration = try Self.producerConfiguration(servers: servers, topicsURL: topicsURL)
        let window = inFlight
        let (drain, produce) = try await onOwnThread { () throws -> ((Double, Double), (Double, Double)) in
            let spool = try Spool(path: spoolPath, quota: quota, synchronousFull: synchronousFull)
            let records = try spool.peek(limit: Int.max)
            // The drain first, then the loop with the very same records, to the same topics.
            let forwarder = try Forwarder(spool: spool, configuration: producerConfiguration, rate: 1e9, inFlight: window, logger: quietLogger)
            let pending = try spool.statistics().events
            let drainCPU0 = processCPU(), drainStart = ContinuousClock.now
            forwarder.start()
            let limit = ContinuousClock.now + .seconds(300)
            while try spool.statistics().events > 0, ContinuousClock.now < limit { Thread.sleep(forTimeInterval: 0.01) }
            let drainWall = seconds(ContinuousClock.now - drainStart), drainCPU = processCPU() - drainCPU0
            forwarder.stop()
            guard try spool.statistics().events == 0 else { throw ValidationError("drain did not finish in 300 s") }
            let produced = try ProduceLoop.run(records, configuration: producerConfiguration, window: window)
            return ((Double(pending) / drainWall, drainCPU / Double(max(1, pending)) * 1e6), produced)
        }
        let n = Double(bodies.count * batch)
        return EdgeRun(ingest: n / ingestWall, ingestCPU: ingestCPU / n * 1e6, drain: drain.0, drainCPU: drain.1, produce: produce.0, produceCPU: produce.1)
    }

    /// What `EdgeNode` gives its forwarder: the catalog's compression per topic.
    static func producerConfiguration(servers: String, topicsURL: URL) throws -> ProducerConfiguration {
        let loaded = try TopicsDirectory.load(at: topicsURL)
        var producer = ProducerConfiguration(client: KafkaConfiguration(bootstrapServers: servers, clientID: "plantrouter-edge"))
        producer.topicCompression = Dictionary(loaded.catalog.topics.map { ($0.name, $0.compression.rawValue) }, uniquingKeysWith: { first, _ in first })
        return producer
    }
}

struct EdgeRun {
    var ingest: Double
    var ingestCPU: Double
    var drain: Double
    var drainCPU: Double
    var produce: Double
    var produceCPU: Double
}

func onOwnThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
    }
}
