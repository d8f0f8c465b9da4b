import Admin
import Foundation
import Kafka
import Testing

/// Not a check of its own: serves the admin API on loopback for Tests/fuzz/schemathesis.sh,
/// on the same real parts as AdminAPITests (embedded cluster, temporary ledger, Topics/
/// copy). Runs only when PLANTROUTER_FUZZ_PORT_FILE names a file: it writes the port there
/// and serves until `<file>.stop` exists. A trap anywhere ends the process, and the script
/// reports it.
struct AdminFuzzServer {
    static let portFile = ProcessInfo.processInfo.environment["PLANTROUTER_FUZZ_PORT_FILE"]

    @Test(.enabled(if: portFile != nil, "serves only for Tests/fuzz/schemathesis.sh"))
    func serveUntilStopped() async throws {
        let portFile = try #require(Self.portFile)
        let fixture = try AdminAPITests.Fixture()
        // Something for replays to find: a dead letter and a source event of lane quality.
        var deadLetter = AdminFuzzServer.inspection(id: "fuzz-dead-letter")
        deadLetter.topic = "dlq.quality"
        deadLetter.headers += [
            KafkaHeader(name: "dlq-reason", string: "policy"), KafkaHeader(name: "dlq-lane", string: "quality"),
            KafkaHeader(name: "dlq-original-topic", string: "plant.quality.results"),
        ]
        let producer = try Producer(configuration: ProducerConfiguration(client: fixture.cluster.configuration), logger: .init(label: "fuzz"))
        try producer.produceWaitingForRoom(deadLetter)
        try producer.produceWaitingForRoom(AdminFuzzServer.inspection(id: "fuzz-source"))
        try producer.close()
        // Lanes running, so /readyz answers 200 and /v1/lanes shows real state.
        await fixture.router.start()
        let deadline = ContinuousClock.now + .seconds(120)
        while !fixture.router.isReady, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(fixture.router.isReady)

        try await fixture.test { client in
            try String(client.port).write(toFile: portFile, atomically: true, encoding: .utf8)
            let stop = portFile + ".stop"
            let deadline = ContinuousClock.now + .seconds(4 * 3600)
            // Polling a file: the script's only way to say "done" without signals.
            while !FileManager.default.fileExists(atPath: stop), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            // Still serving at the end: nothing the fuzzer sent took the server down.
            #expect(try await client.execute("GET", "/healthz").status == 200)
        }
        await fixture.router.stop()
    }

    static func inspection(id: String) -> ProducerRecord {
        let body = #"{"asset":"PK1-FILL","line":"PK1","workOrderId":"WO-1","characteristic":"seal","measured":1.5,"result":"fail"}"#
        return ProducerRecord(
            topic: "plant.quality.results", key: Array("PK1-FILL".utf8), value: Array(body.utf8),
            headers: [
                KafkaHeader(name: "ce_specversion", string: "1.0"), KafkaHeader(name: "ce_id", string: id),
                KafkaHeader(name: "ce_source", string: "plant/p1/lab"), KafkaHeader(name: "ce_type", string: "quality.inspection.completed"),
                KafkaHeader(name: "ce_time", string: "2026-03-01T08:00:00Z"), KafkaHeader(name: "content-type", string: "application/json"),
            ])
    }
}
