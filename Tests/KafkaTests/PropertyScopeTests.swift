import CRdKafka
import Foundation
@testable import Kafka
import Logging
import Synchronization
import Testing

/// Shared properties reach only the clients they fit; `consumer`/`producer` properties only
/// their kind; librdkafka has nothing to warn about (no CONFWARN).
@Suite("PropertyScope")
struct PropertyScopeTests {
    @Test func sharedPropertiesReachOnlyTheKindTheyFitWithoutConfwarn() throws {
        let logs = CapturedLogs()
        var client = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        client.properties = ["fetch.wait.max.ms": "10", "linger.ms": "42", "client.rack": "plant-7"]
        client.consumerProperties = ["fetch.min.bytes": "1000"]
        client.producerProperties = ["batch.size": "65536"]

        let producer = try Producer(configuration: ProducerConfiguration(client: client), logger: logs.logger)
        let consumer = try Consumer(configuration: ConsumerConfiguration(client: client, groupID: "g"), logger: logs.logger)
        let admin = try Admin(configuration: client, logger: logs.logger)

        let producerConf = try #require(rd_kafka_conf(producer.handle.pointer))
        #expect(value(of: "linger.ms", in: producerConf) == "42")
        #expect(value(of: "batch.size", in: producerConf) == "65536")
        #expect(value(of: "client.rack", in: producerConf) == "plant-7")
        #expect(value(of: "fetch.wait.max.ms", in: producerConf) == "500", "librdkafka's default: the shared consumer property was not passed")
        #expect(value(of: "fetch.min.bytes", in: producerConf) == "1")
        #expect(value(of: "allow.auto.create.topics", in: producerConf) == "false", "producers never create topics")

        let consumerConf = try #require(rd_kafka_conf(consumer.handle.pointer))
        #expect(value(of: "fetch.wait.max.ms", in: consumerConf) == "10")
        #expect(value(of: "fetch.min.bytes", in: consumerConf) == "1000")
        #expect(value(of: "client.rack", in: consumerConf) == "plant-7")
        #expect(value(of: "linger.ms", in: consumerConf) == "5", "librdkafka's default: the shared producer property was not passed")

        let adminConf = try #require(rd_kafka_conf(admin.handle.pointer))
        #expect(value(of: "fetch.wait.max.ms", in: adminConf) == "500")
        #expect(value(of: "client.rack", in: adminConf) == "plant-7")

        try consumer.close()
        try producer.close(timeout: .milliseconds(100))
        #expect(logs.lines.filter { $0.contains("CONFWARN") }.isEmpty, "librdkafka warned: \(logs.lines.filter { $0.contains("CONFWARN") })")
        #expect(client.singleKindSharedProperties.map(\.property) == ["fetch.wait.max.ms", "linger.ms"])
    }

    /// The check above is only worth something if librdkafka does warn when a producer gets a
    /// consumer property: it does, through the log callback this wrapper installs.
    @Test func librdkafkaWarnsWhenAProducerGetsAConsumerProperty() throws {
        let logs = CapturedLogs()
        var configuration = ProducerConfiguration(client: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"))
        configuration.client.producerProperties["fetch.wait.max.ms"] = "10"
        let producer = try Producer(configuration: configuration, logger: logs.logger)
        try producer.close(timeout: .milliseconds(100))
        #expect(logs.lines.contains { $0.contains("CONFWARN") && $0.contains("fetch.wait.max.ms") }, "\(logs.lines)")
    }

    /// A producer with PlantRouter's settings never makes the broker create a topic; one with
    /// librdkafka's producer default does (the embedded cluster auto-creates like a broker
    /// with `auto.create.topics.enable=true`, with its own partition count, 4). The flag
    /// travels in Metadata v4+, which the embedded brokers only answer when told to.
    @Test func producersNeverAutoCreateTopics() async throws {
        let test = try TestCluster(brokers: 1)
        try test.cluster.setAPIVersions(.metadata, minimum: 0, maximum: 4)
        let admin = try test.admin()
        var refusing = test.producerConfiguration()
        refusing.client.properties["topic.metadata.propagation.max.ms"] = "1000"
        refusing.deliveryTimeoutMs = 3000
        let reports = ReportCollector()
        let producer = try test.producer(refusing) { reports.add($0) }
        try producer.produce(ProducerRecord(topic: "erp.not-provisioned", value: Array("x".utf8)))
        #expect(try await eventually(timeout: .seconds(30)) { reports.count == 1 })
        let report = try #require(reports.all.first)
        #expect(report.error != nil, "delivery to a missing topic fails")
        #expect(throws: KafkaError.self) { try admin.describeTopics(["erp.not-provisioned"]) }
        try producer.close(timeout: .seconds(1))

        var creating = test.producerConfiguration()
        creating.allowAutoCreateTopics = true
        let autoCreating = try test.producer(creating)
        try autoCreating.produce(ProducerRecord(topic: "erp.auto-created", value: Array("x".utf8)))
        try autoCreating.close(timeout: .seconds(10))
        #expect(try admin.describeTopics(["erp.auto-created"]).first?.partitions.isEmpty == false, "the contrast: librdkafka's default lets the broker create it")
    }

    private func value(of name: String, in conf: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard rd_kafka_conf_get(conf, name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
        return String(cString: buffer)
    }
}

/// Collects every log line of a logger at debug and above.
final class CapturedLogs: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    var logger: Logger {
        var logger = Logger(label: "captured") { _ in CapturingHandler(logs: self) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ line: String) { storage.withLock { $0.append(line) } }

    struct CapturingHandler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { logs.append("\(event.level) \(event.message)") }
    }
}
