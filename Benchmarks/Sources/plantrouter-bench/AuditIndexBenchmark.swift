import ArgumentParser
import Foundation
import Kafka
import Ledger
import Routing

/// How long a new instance (or one whose ledger file was deleted) takes to rebuild its index
/// from the audit topic: writes `--entries` audit entries like the router's (a correlated
/// workflow decision with two outputs and their produced keys) to a fresh topic, then times
/// `AuditIndexReader.catchUp` into an empty ledger, `--runs` times.
struct AuditIndexBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-index",
        abstract: "Rebuild a ledger's index from the audit topic: entries/s, CPU per entry, file size."
    )

    @Option(help: "Kafka bootstrap servers (tansu in Benchmarks/audit-index.sh).")
    var bootstrap: String

    @Option(help: "Audit entries to write and index.")
    var entries = 1_000_000

    @Option(help: "Partitions of the benchmark's audit topic (the catalog's has 6).")
    var partitions: Int32 = 6

    @Option(help: "Rebuilds to time (each into a new, empty ledger).")
    var runs = 1

    func run() async throws {
        guard entries > 0, partitions > 0, runs > 0 else { throw ValidationError("entries, partitions and runs must be positive") }
        let topic = "bench.audit.\(UUID().uuidString.prefix(8))"
        let cluster = KafkaConfiguration(bootstrapServers: bootstrap)
        try await Admin(configuration: cluster, logger: quietLogger)
            .createTopics([TopicSpec(name: topic, partitions: partitions, replicationFactor: 1)], ignoreExisting: true)
        print("audit-index: \(entries) entries on \(topic) (\(partitions) partitions), \(runs) rebuilds, librdkafka \(KafkaVersion.librdkafka)")

        let (entries, partitions) = (entries, partitions)
        let (bytes, writeSeconds) = try await onOwnThread { try Self.write(entries, to: topic, cluster: cluster) }
        print(String(format: "  written: %.0f entries/s, %.0f bytes/entry", Double(entries) / writeSeconds, Double(bytes) / Double(entries)))

        for run in 1...runs {
            let (seconds, cpu, fileBytes) = try await onOwnThread {
                try Self.rebuild(topic: topic, partitions: Int(partitions), cluster: cluster, expected: entries)
            }
            print(String(format: "  rebuild %d: %.1f s, %.0f entries/s, %.1f µs CPU/entry (process), ledger %.0f MB (%.0f bytes/entry)",
                         run, seconds, Double(entries) / seconds, cpu / Double(entries) * 1e6, Double(fileBytes) / 1e6,
                         Double(fileBytes) / Double(entries)))
        }
    }

    private static func entry(_ index: Int) -> AuditEntry {
        let event = "bench-event-\(index)"
        let keys = ["\(event)/confirmations-to-erp/erp.production.confirmations", "\(event)/confirmations-to-erp/erp.inventory.movements"]
        let outputs = zip(keys, ["erp.production.confirmations", "erp.inventory.movements"]).map { key, topic in
            AuditOutput(topic: topic, partition: Int32(index % 6), offset: Int64(index), idempotencyKey: key)
        }
        let record = AuditRecord(
            recordID: "bench-instance/production/plant.production.confirmations/\(index % 6)/\(index)",
            eventID: event, lane: "production", sourceTopic: "plant.production.confirmations", sourcePartition: Int32(index % 6),
            sourceOffset: Int64(index), eventType: "production.confirmation.posted", eventSource: "plant/hamburg/mes",
            correlationID: "WO-\(5000 + index % 5000)", ruleID: "confirmations-to-erp", policyVersion: "bench",
            outcome: .workflow, outputs: outputs)
        return AuditEntry(record: record, produced: outputs.map {
            ProducedOutput(idempotencyKey: $0.idempotencyKey, topic: $0.topic, partition: $0.partition ?? 0, offset: $0.offset ?? 0)
        })
    }

    /// Produces the entries as the lanes do (lz4, idempotent); their total value bytes and the seconds it took.
    private static func write(_ count: Int, to topic: String, cluster: KafkaConfiguration) throws -> (Int, Double) {
        var configuration = ProducerConfiguration(client: cluster)
        configuration.enableIdempotence = true
        let producer = try Producer(configuration: configuration, logger: quietLogger)
        let auditTopic = AuditTopic(name: topic)
        var bytes = 0
        let started = ContinuousClock.now
        for index in 0..<count {
            let record = auditTopic.record(entry(index))
            bytes += record.value?.count ?? 0
            try producer.produceWaitingForRoom(record)
        }
        try producer.flush(timeout: .seconds(300))
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        try producer.close()
        return (bytes, seconds)
    }

    private static func rebuild(topic: String, partitions: Int, cluster: KafkaConfiguration, expected: Int) throws -> (Double, Double, Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-index-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ledger.sqlite").path
        let ledger = try Ledger(path: path)
        let reader = try AuditIndexReader(topic: topic, partitions: partitions, cluster: cluster, ledger: ledger, logger: quietLogger)
        defer { reader.close() }
        let cpuBefore = processCPU()
        let started = ContinuousClock.now
        guard try reader.catchUp(timeout: .seconds(3600), untilIdle: true) else { throw ValidationError("rebuild stopped") }
        // tansu reports ends short (DESIGN.md): read on until every entry written is indexed.
        var indexed: Int64 { reader.positions.values.reduce(0, +) }
        while indexed < Int64(expected), ContinuousClock.now - started < .seconds(3600) { try reader.readOnce() }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let cpu = processCPU() - cpuBefore
        guard indexed >= Int64(expected) else { throw ValidationError("indexed \(indexed) of \(expected) entries") }
        let fileBytes = ["", "-wal"].reduce(0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }
        return (seconds, cpu, fileBytes)
    }
}
