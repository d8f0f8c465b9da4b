import CRdKafka
import Foundation
@testable import Kafka
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    private let client = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")

    @Test func unknownPropertyFailsAtConstructionWithLibrdkafkasMessage() throws {
        var configuration = ProducerConfiguration(client: client)
        configuration.client.properties["no.such.property"] = "1"
        let error = try #require(throws: KafkaConfigurationError.self) {
            try Producer(configuration: configuration, logger: testLogger)
        }
        #expect(error.property == "no.such.property")
        #expect(error.value == "1")
        #expect(error.message.contains("No such configuration property"), "librdkafka's text: \(error.message)")
        #expect(error.description.contains("no.such.property"))
    }

    @Test func invalidValueFailsAtConstructionNamingPropertyAndValue() throws {
        var producer = ProducerConfiguration(client: client)
        producer.compression = "zip"
        let codec = try #require(throws: KafkaConfigurationError.self) { try Producer(configuration: producer, logger: testLogger) }
        #expect(codec.property == "compression.codec")
        #expect(codec.value == "zip")
        #expect(codec.message.contains("Invalid value"), "librdkafka's text: \(codec.message)")

        var consumer = ConsumerConfiguration(client: client, groupID: "g")
        consumer.sessionTimeoutMs = -5
        let range = try #require(throws: KafkaConfigurationError.self) { try Consumer(configuration: consumer, logger: testLogger) }
        #expect(range.property == "session.timeout.ms")
        #expect(range.value == "-5")
        #expect(range.message.contains("outside allowed range"), "librdkafka's text: \(range.message)")

        var admin = client
        admin.properties["socket.keepalive.enable"] = "perhaps"
        let boolean = try #require(throws: KafkaConfigurationError.self) { try Admin(configuration: admin, logger: testLogger) }
        #expect(boolean.property == "socket.keepalive.enable")
        #expect(boolean.value == "perhaps")
    }

    @Test func passThroughPropertiesReachLibrdkafkaAndWinOverTypedSettings() throws {
        var configuration = ProducerConfiguration(client: client)
        configuration.lingerMs = 5
        configuration.client.properties = [
            "linger.ms": "42",
            "client.rack": "plant-7",
            "security.protocol": "plaintext",
            "socket.keepalive.enable": "true",
        ]
        let producer = try Producer(configuration: configuration, logger: testLogger)
        let conf = rd_kafka_conf(producer.handle.pointer)!
        #expect(value(of: "linger.ms", in: conf) == "42")
        #expect(value(of: "client.rack", in: conf) == "plant-7")
        #expect(value(of: "security.protocol", in: conf) == "plaintext")
        #expect(value(of: "socket.keepalive.enable", in: conf) == "true")
        #expect(value(of: "enable.idempotence", in: conf) == "true", "typed default")
        #expect(value(of: "client.id", in: conf) == "plantrouter")

        var consumerConfiguration = ConsumerConfiguration(client: client, groupID: "lane-telemetry")
        consumerConfiguration.client.properties["fetch.max.bytes"] = "1048576"
        let consumer = try Consumer(configuration: consumerConfiguration, logger: testLogger)
        let consumerConf = rd_kafka_conf(consumer.handle.pointer)!
        #expect(value(of: "group.id", in: consumerConf) == "lane-telemetry")
        #expect(value(of: "fetch.max.bytes", in: consumerConf) == "1048576")
        #expect(value(of: "isolation.level", in: consumerConf) == "read_committed")
        #expect(value(of: "partition.assignment.strategy", in: consumerConf) == "cooperative-sticky")
        #expect(value(of: "enable.auto.offset.store", in: consumerConf) == "false")
    }

    /// A pass-through property changes what librdkafka does, not only what it stores.
    @Test func passThroughPropertyChangesBehaviour() throws {
        var configuration = ProducerConfiguration(client: client)
        configuration.client.properties["message.max.bytes"] = "2000"
        let producer = try Producer(configuration: configuration, logger: testLogger)
        let error = try #require(throws: KafkaError.self) {
            try producer.produce(ProducerRecord(topic: "t", value: [UInt8](repeating: 1, count: 5000)))
        }
        #expect(error.code == .messageTooLarge)
        #expect(error.code.name == "MSG_SIZE_TOO_LARGE")
    }

    private func value(of name: String, in conf: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard rd_kafka_conf_get(conf, name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
        return String(cString: buffer)
    }
}
