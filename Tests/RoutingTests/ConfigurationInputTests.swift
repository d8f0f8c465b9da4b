import Foundation
import Routing
import Testing

/// `plantrouter run --config FILE` is input too: misspelt keys at any level, out-of-range
/// numbers and YAML built to expand are refused with the file and what to fix.
@Suite("Router configuration input")
struct ConfigurationInputTests {
    private func load(_ text: String) throws -> RouterConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-config-\(UUID().uuidString).yaml")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try RouterConfiguration.load(path: file.path)
    }

    private func message(_ text: String) -> String {
        do {
            _ = try load(text)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    @Test func aValidFileLoadsWithItsLaneSettings() throws {
        let configuration = try load("""
            cluster: { bootstrapServers: localhost:9092 }
            lanes: { production: { drainTimeoutMs: 2000, maxBatch: 100 } }
            admin: { port: 9090 }
            """)
        #expect(configuration.settings(for: "production").drainTimeoutMs == 2000)
        #expect(configuration.settings(for: "production").maxBatch == 100)
        #expect(configuration.admin.port == 9090)
    }

    @Test func consumerAndProducerSectionsReachOnlyTheirKind() throws {
        let configuration = try load("""
            cluster:
              bootstrapServers: localhost:9092
              properties: { client.rack: plant-7, fetch.wait.max.ms: "20" }
              consumer: { fetch.min.bytes: "1000" }
              producer: { linger.ms: "10" }
            """)
        let kafka = configuration.kafka
        #expect(kafka.properties == ["client.rack": "plant-7", "fetch.wait.max.ms": "20"])
        #expect(kafka.consumerProperties == ["fetch.min.bytes": "1000"])
        #expect(kafka.producerProperties == ["linger.ms": "10"])
        #expect(kafka.singleKindSharedProperties.map(\.property) == ["fetch.wait.max.ms"], "run names it so the file can move it")
        #expect(message("cluster:\n  bootstrapServers: b:9092\n  consumer:\n    linger.ms: \"5\"\n")
            .contains("cluster.consumer.linger.ms is a producer property (librdkafka CONFIGURATION.md); move it under cluster.producer"))
        #expect(message("cluster:\n  bootstrapServers: b:9092\n  producer:\n    session.timeout.ms: \"6000\"\n")
            .contains("cluster.producer.session.timeout.ms is a consumer property"))
        #expect(message("cluster: { bootstrapServers: b:9092, consumers: {} }").contains("did you mean 'consumer'?"))
    }

    @Test(arguments: [
        ("lanes: { production: { drainTimoutMs: 2000 } }", "unknown key 'drainTimoutMs'; did you mean 'drainTimeoutMs'?"),
        ("admin: { prot: 9090 }", "unknown key 'prot'; did you mean 'port'?"),
        ("clusterr: {}", "unknown key 'clusterr'; did you mean 'cluster'?"),
        ("lanes: { telemetry: { maxBatch: 0 } }", "maxBatch must be within 1…10000, got 0"),
        ("lanes: { telemetry: { maxInFlight: -5 } }", "maxInFlight must be within 1…1000000, got -5"),
        ("lanes: { telemetry: { retryBackoffMs: 9223372036854775807 } }", "retryBackoffMs must be within 1…600000"),
        ("admin: { port: 70000 }", "port must be within 0…65535, got 70000"),
    ])
    func badValuesAreRefusedWithAHint(line: String, expected: String) {
        let text = line.hasPrefix("clusterr") ? line : "cluster: { bootstrapServers: localhost:9092 }\n" + line
        let error = message(text)
        #expect(error.contains(expected), "\(error)")
    }

    @Test func aliasesAreRefusedBeforeAnythingExpands() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...20 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        text += "cluster: { bootstrapServers: localhost:9092 }\n"
        let started = ContinuousClock.now
        let error = message(text)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(error.contains("anchor") || error.contains("alias"), "\(error)")
    }
}
