import Testing
@testable import Kafka

@Test func reportsLibrdkafkaVersion() {
    #expect(KafkaVersion.librdkafka.hasPrefix("2."))
}
