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

let edgeTestLogger: Logger = {
    var logger = Logger(label: "plantrouter.edge.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// The repository's Topics/ folder: the edge runs the contract that ships.
let topicsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Topics")

struct EdgeNotListening: Error {}

/// An embedded cluster with the catalog's source and dead-letter topics, and a real
/// `EdgeNode` serving HTTP on a free loopback port, forwarding to it.
final class EdgeTestbed: Sendable {
    let cluster: EmbeddedCluster
    let node: EdgeNode
    let port: Int
    let folder: URL
    let token = "gateway-secret-1"
    private let task: Task<Void, any Error>

    static let sourceAndDeadLetterTopics: [String] = {
        guard let policy = try? TopicsDirectory.load(at: topicsFolder) else { return [] }
        return policy.catalog.topics.filter { $0.role == .source || $0.role == .deadLetter }.map(\.name)
    }()

    init(quota: [PriorityClass: Int64]? = nil, rate: Double = 50_000, inFlight: Int = 5000, downsampleMs: [String: Int64] = [:]) async throws {
        cluster = try EmbeddedCluster(brokers: 3, logger: edgeTestLogger)
        try cluster.createTopics(Self.sourceAndDeadLetterTopics.map { TopicSpec(name: $0, partitions: 3, replicationFactor: 1) })
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("edge-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = EdgeConfiguration(
            bootstrapServers: cluster.bootstrapServers, topics: topicsFolder, spool: folder.appendingPathComponent("spool.sqlite"))
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.drainRate = rate
        configuration.inFlight = inFlight
        // A broker brought back up is reconnected to within a second, not ten.
        configuration.producerProperties = ["reconnect.backoff.max.ms": "1000", "linger.ms": "5"]
        if let quota { configuration.quota = quota }
        configuration.downsampleMs = downsampleMs
        node = try EdgeNode(configuration: configuration, tokens: GatewayTokens([token: "line-1"]), logger: edgeTestLogger)
        let bound = Mutex<Int?>(nil)
        task = Task { [node] in try await node.run(signals: false) { port in bound.withLock { $0 = port } } }
        let deadline = ContinuousClock.now + .seconds(30)
        while bound.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard let port = bound.withLock({ $0 }) else { throw EdgeNotListening() }
        self.port = port
    }

    func allBrokers(up: Bool) throws {
        for broker in 1...cluster.brokerCount {
            if up { try cluster.setBrokerUp(broker) } else { try cluster.setBrokerDown(broker) }
        }
    }

    func shutdown() async {
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: folder)
    }

    struct Reply: Sendable {
        var status: Int
        var body: String
        var retryAfter: String?
    }

    func post(_ body: [UInt8], contentType: String, headers: [String: String] = [:], token: String? = nil) async throws -> Reply {
        guard let url = URL(string: "http://127.0.0.1:\(port)/v1/events") else { throw EdgeNotListening() }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token ?? self.token)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return Reply(status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self),
                     retryAfter: http?.value(forHTTPHeaderField: "Retry-After"))
    }

    /// `events` as `cloudevents-batch+json` requests of `batch`, sent by `gateways` clients at once,
    /// each with its own keys (a key's events come from one gateway, in order). Every reply.
    func postFromGateways(_ events: some Collection<RawEvent>, gateways: Int = 4, batch: Int = 200) async throws -> [Reply] {
        let byGateway = Dictionary(grouping: events) { abs(String(decoding: $0.key ?? [], as: UTF8.self).hashValue % gateways) }
        return try await withThrowingTaskGroup(of: [Reply].self) { group in
            for (_, own) in byGateway {
                group.addTask {
                    var replies: [Reply] = []
                    for chunk in stride(from: 0, to: own.count, by: batch) {
                        let slice = own[chunk..<min(chunk + batch, own.count)]
                        replies.append(try await self.post(GatewayTraffic.batch(slice.map { GatewayTraffic.structured($0) }),
                                                           contentType: "application/cloudevents-batch+json"))
                    }
                    return replies
                }
            }
            var all: [Reply] = []
            for try await replies in group { all += replies }
            return all
        }
    }

    func get(_ path: String) async throws -> Reply {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw EdgeNotListening() }
        let (data, response) = try await URLSession.shared.data(from: url)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self))
    }

    /// Reads every partition of `topics` from the beginning until `done` holds on all read
    /// so far, then keeps reading until nothing new arrives for `idle` (so a duplicate would show).
    func consumeAll(_ topics: [String], timeout: Duration = .seconds(60), idle: Duration = .seconds(1),
                    until done: @escaping @Sendable ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: "edge-tests-\(UUID().uuidString)")
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        let consumer = try Consumer(configuration: configuration, logger: edgeTestLogger)
        try consumer.assign(topics.flatMap { topic in (0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning) } })
        return try await onDedicatedThread {
            var records: [ConsumerRecord] = []
            let deadline = ContinuousClock.now + timeout
            var lastNew = ContinuousClock.now
            while ContinuousClock.now < deadline {
                let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
                if !batch.records.isEmpty { lastNew = ContinuousClock.now }
                records += batch.records
                if done(records), ContinuousClock.now - lastNew >= idle { break }
            }
            try? consumer.close()
            return records
        }
    }
}

func onDedicatedThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
    }
}

func eventually(timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Gateway traffic: the simulated plant's events as CloudEvents for HTTP.
enum GatewayTraffic {
    /// `count` valid plant events (telemetry, machine, production, quality).
    static func events(_ count: Int, seed: UInt64 = 7, telemetryShare: Double = 0.95) -> [RawEvent] {
        var configuration = PlantSimulator.Configuration()
        configuration.count = count
        configuration.seed = seed
        configuration.includeSlowdown = false
        configuration.telemetryShare = telemetryShare
        return Array(PlantSimulator(configuration).events().prefix(count))
    }

    static func header(_ event: RawEvent, _ name: String) -> String {
        event.header(name).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The structured-mode JSON of `event`, its key as the `partitionkey` extension.
    static func structured(_ event: RawEvent, source: String? = nil, data: String? = nil) -> String {
        func quoted(_ text: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
        let key = event.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "{\"specversion\":\"1.0\",\"id\":\(quoted(header(event, "ce_id"))),\"source\":\(quoted(source ?? header(event, "ce_source"))),"
            + "\"type\":\(quoted(header(event, "ce_type"))),\"time\":\(quoted(header(event, "ce_time"))),\"partitionkey\":\(quoted(key)),"
            + "\"datacontenttype\":\"application/json\",\"data\":\(data ?? String(decoding: event.value, as: UTF8.self))}"
    }

    static func batch(_ elements: [String]) -> [UInt8] { Array(("[" + elements.joined(separator: ",") + "]").utf8) }

    /// Binary-mode HTTP headers of `event`.
    static func binaryHeaders(_ event: RawEvent) -> [String: String] {
        var headers: [String: String] = ["ce-specversion": "1.0"]
        for name in ["id", "source", "type", "time"] { headers["ce-\(name)"] = header(event, "ce_\(name)") }
        headers["ce-partitionkey"] = event.key.map { String(decoding: $0, as: UTF8.self) }
        return headers
    }
}

extension ConsumerRecord {
    func header(_ name: String) -> String? { headers[header: name]?.stringValue }

    /// The CloudEvents id: the `ce_id` header (binary mode) or the JSON `id` (structured mode).
    var eventID: String? {
        if let id = header("ce_id") { return id }
        guard let value, let object = (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any] else { return nil }
        return object["id"] as? String
    }

    var keyText: String { key.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}
