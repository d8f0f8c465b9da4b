import Foundation
import Kafka
import PlantSimulation
import Policy
import Routing
import Testing

@Suite("Failed deliveries, end to end")
struct TargetFailureTests {
    /// An at-least-once lane releases a consumed record once librdkafka holds its outputs; when an
    /// output then fails every attempt, its dead letter needs the record again and reads it back
    /// from the source partition. The letter must still be the original, byte for byte.
    @Test("an output that fails every attempt dead-letters its source record, read again from Kafka byte for byte")
    func failedDeliveryDeadLettersTheOriginal() async throws {
        let testbed = try Testbed()
        testbed.cluster.setTopicError("analytics.telemetry", FailingTarget.error)
        let collector = try OutputCollector(testbed: testbed, topics: ["dlq.telemetry", PlantSimulator.telemetryTopic])
        defer { collector.stop() }
        var configuration = testbed.configuration()
        var telemetry = LaneSettings()
        telemetry.deliveryTimeoutMs = 1000
        telemetry.maxAttempts = 2
        telemetry.retryBackoffMs = 50
        telemetry.drainTimeoutMs = 2000
        configuration.lanes["telemetry"] = telemetry
        // Several partitions and several records per partition: the reader seeks and reads forward.
        let readings = (0..<12).map { testbed.reading(id: "failing-\($0)", asset: "L\($0 % 3 + 1)-FILL1", value: Double($0)) }

        try await testbed.withRouter(configuration) { _ in
            let tokens = try await testbed.publish(readings)
            let arrived = await collector.wait(timeout: .seconds(60)) { records in
                records.filter { $0.topic == "dlq.telemetry" }.count >= readings.count
            }
            #expect(arrived, "dead letters so far: \(collector.records(in: "dlq.telemetry").count)")
            await collector.waitForQuiet()

            let letters = collector.records(in: "dlq.telemetry")
            #expect(letters.count == readings.count, "one dead letter per reading, got \(letters.count)")
            for (event, token) in zip(readings, tokens) {
                let id = String(decoding: event.header("ce_id") ?? [], as: UTF8.self)
                let matching = letters.filter { $0.header("ce_id") == id }
                #expect(matching.count == 1, "\(id): \(matching.count) dead letters")
                guard let letter = matching.first else { continue }
                let delivered = try #require(testbed.publisher.report(token))
                let source = try #require(collector.records.first {
                    $0.topic == event.topic && $0.partition == delivered.partition && $0.offset == delivered.offset
                }, "\(id): the original record was read back")
                #expect(letter.key == source.key && letter.value == source.value, "\(id): key and value as consumed")
                #expect(Array(letter.headers.prefix(source.headers.count)) == source.headers, "\(id): original headers first, byte for byte")
                let context = Dictionary(
                    letter.headers.dropFirst(source.headers.count).map { ($0.name, $0.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
                #expect(context["dlq-reason"] == "target")
                #expect(context["dlq-attempts"] == "2")
                #expect(context["dlq-original-offset"] == String(delivered.offset))
                #expect(context["dlq-error"]?.contains("analytics.telemetry") == true, "\(id): \(context["dlq-error"] ?? "no error")")
            }
        }
    }
}
