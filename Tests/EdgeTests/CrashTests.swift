import Edge
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Policy
import TestProcesses
import Testing

/// The built binary, SIGKILLed while gateways are being answered and again mid-drain: nothing
/// answered 202 is lost, and the only duplicates carry the same ce_id.
@Suite("Edge crash safety", .serialized)
struct CrashTests {
    @Test func sigkillDuringSpoolingAndMidDrainLosesNothingAcknowledged() async throws {
        guard BuiltPrograms.plantrouter != nil else {
            Issue.record("build the plantrouter binary first: swift build --build-tests")
            return
        }
        let cluster = try EmbeddedCluster(brokers: 3, logger: edgeTestLogger)
        try cluster.createTopics(EdgeTestbed.sourceAndDeadLetterTopics.map { TopicSpec(name: $0, partitions: 3, replicationFactor: 1) })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("edge-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = EdgeProcess.freePort()
        let spoolPath = folder.appendingPathComponent("spool.sqlite").path
        let config = folder.appendingPathComponent("edge.yaml")
        try """
            cluster:
              bootstrapServers: \(cluster.bootstrapServers)
              producer: { reconnect.backoff.max.ms: 1000 }
            topics: \(topicsFolder.path)
            spool: \(spoolPath)
            listen: { host: 127.0.0.1, port: \(port) }
            drain: { rate: 1000, inFlight: 500 }
            """.write(to: config, atomically: true, encoding: .utf8)
        let token = "crash-token"
        let log = folder.appendingPathComponent("edge.log")
        let events = GatewayTraffic.events(3000, seed: 23)
        let batches = stride(from: 0, to: events.count, by: 100).map { Array(events[$0..<min($0 + 100, events.count)]) }

        @Sendable func post(_ batch: [RawEvent]) async -> Int {
            guard let url = URL(string: "http://127.0.0.1:\(port)/v1/events") else { return 0 }
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = Data(GatewayTraffic.batch(batch.map { GatewayTraffic.structured($0) }))
            request.setValue("application/cloudevents-batch+json", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            guard let (_, response) = try? await URLSession.shared.data(for: request) else { return 0 }
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        @Sendable func healthy() async -> Bool {
            guard let url = URL(string: "http://127.0.0.1:\(port)/healthz"),
                  let (_, response) = try? await URLSession.shared.data(from: url) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
        @Sendable func stats() -> SpoolStatistics? { try? Spool.readStatistics(path: spoolPath, quota: [:]) }

        // 1. Every broker down; SIGKILL while the gateway is still sending.
        for broker in 1...cluster.brokerCount { try cluster.setBrokerDown(broker) }
        var edge = try EdgeProcess(configuration: config, log: log, token: token)
        #expect(try await eventually { await healthy() }, "edge listening: \(edge.logTail())")
        var acknowledged = 0
        for batch in batches[0..<20] {
            if await post(batch) == 202 { acknowledged += 1 }
        }
        #expect(acknowledged == 20)
        async let inFlight = post(batches[20])
        edge.kill()
        _ = await inFlight
        #expect((stats()?.events ?? 0) >= 2000, "every acknowledged event is on disk after SIGKILL")

        // 2. Restarted; the gateway sends again what was not acknowledged; brokers back; SIGKILL mid-drain.
        edge = try EdgeProcess(configuration: config, log: log, token: token)
        #expect(try await eventually { await healthy() }, "edge listening again: \(edge.logTail())")
        for batch in batches[20...] { #expect(await post(batch) == 202) }
        for broker in 1...cluster.brokerCount { try cluster.setBrokerUp(broker) }
        #expect(try await eventually(timeout: .seconds(30)) { (stats()?.lanes.reduce(0) { $0 + $1.forwarded } ?? 0) >= 800 }, "draining: \(edge.logTail())")
        edge.kill()
        let midDrain = stats()
        #expect((midDrain?.events ?? 0) > 0, "killed mid-drain, events still spooled")

        // 3. Restarted again: the rest drains.
        edge = try EdgeProcess(configuration: config, log: log, token: token)
        #expect(try await eventually(timeout: .seconds(30)) { stats()?.events == 0 }, "spool drained: \(edge.logTail())")
        edge.terminate()

        let consumerBed = ClusterReader(cluster: cluster)
        let records = try await consumerBed.readAll(EdgeTestbed.sourceAndDeadLetterTopics.filter { !$0.hasPrefix("dlq.") }) { records in
            Set(records.compactMap(\.eventID)).count >= events.count
        }
        let ids = records.compactMap(\.eventID)
        let unique = Set(ids)
        #expect(unique == Set(events.map { GatewayTraffic.header($0, "ce_id") }), "every event arrived, with its own ce_id")
        print("edge crash test: \(records.count) records for \(events.count) events, \(records.count - unique.count) duplicates (same ce_id) from the two SIGKILLs")
        // Per topic and key, first arrivals keep the send order.
        var sent: [String: [String]] = [:]
        for event in events { sent[event.topic + "/" + String(decoding: event.key ?? [], as: UTF8.self), default: []].append(GatewayTraffic.header(event, "ce_id")) }
        var firstArrivals: [String: [String]] = [:]
        var seen: Set<String> = []
        for record in records.sorted(by: { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }) {
            guard let id = record.eventID, seen.insert(id).inserted else { continue }
            firstArrivals[record.topic + "/" + record.keyText, default: []].append(id)
        }
        let outOfOrder = sent.filter { firstArrivals[$0.key] != $0.value }.map(\.key).sorted()
        #expect(outOfOrder.isEmpty, "keys out of send order: \(outOfOrder.prefix(5))")
    }
}

/// Reads topics of an embedded cluster from the beginning (see `EdgeTestbed.consumeAll`).
struct ClusterReader {
    let cluster: EmbeddedCluster

    func readAll(_ topics: [String], timeout: Duration = .seconds(60), until done: @escaping @Sendable ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
        let consumer = try Consumer(configuration: ConsumerConfiguration(client: cluster.configuration, groupID: "edge-crash-\(UUID().uuidString)"), logger: edgeTestLogger)
        try consumer.assign(topics.flatMap { topic in (0..<3).map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning) } })
        return try await onDedicatedThread {
            var records: [ConsumerRecord] = []
            let deadline = ContinuousClock.now + timeout
            var lastNew = ContinuousClock.now
            while ContinuousClock.now < deadline {
                let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
                if !batch.records.isEmpty { lastNew = ContinuousClock.now }
                records += batch.records
                if done(records), ContinuousClock.now - lastNew >= .seconds(1) { break }
            }
            try? consumer.close()
            return records
        }
    }
}
