import Kafka

enum PlantRouterVersion {
    static let number = "0.1.0"
    static var current: String { "\(number) (librdkafka \(KafkaVersion.librdkafka))" }
}
