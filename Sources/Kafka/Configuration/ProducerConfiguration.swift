/// Producer settings with the defaults PlantRouter relies on.
public struct ProducerConfiguration: Sendable {
    public var client: KafkaConfiguration
    /// `enable.idempotence`: no duplicates or reordering from internal retries. Default `true`.
    public var enableIdempotence = true
    /// `linger.ms`: how long to wait to fill a batch. Default 5 ms.
    public var lingerMs = 5
    /// `delivery.timeout.ms` (`message.timeout.ms`): the bound on librdkafka's own retries
    /// before a delivery report fails. Default 30 s.
    public var deliveryTimeoutMs = 30_000
    /// `queue.buffering.max.messages`: local queue bound; a full queue makes
    /// `produce` throw `_QUEUE_FULL`. Default 100 000.
    public var maxQueuedMessages = 100_000
    /// `queue.buffering.max.kbytes`: the local queue's bound in bytes (key, value and headers of
    /// records not yet acknowledged); a full queue makes `produce` throw `_QUEUE_FULL` too.
    /// Default 1 GiB, librdkafka's own; the router's lanes set it from their in-flight budget.
    public var maxQueuedKilobytes = 1_048_576
    /// `compression.codec`. Default `lz4`.
    public var compression = "lz4"
    /// `compression.codec` per topic, where it differs from `compression`.
    public var topicCompression: [String: String] = [:]
    /// `allow.auto.create.topics`. Default `false` (librdkafka's producer default is `true`):
    /// producing to a missing topic fails with `UNKNOWN_TOPIC_OR_PART` instead of letting the
    /// broker create it with its own partition count and retention. Topics come from the
    /// catalog (`plantrouter topics apply`). A producer property in librdkafka 2.0.2 and every
    /// later release (2.0.0 dropped the CONFWARN a producer used to print for it).
    public var allowAutoCreateTopics = false

    public init(client: KafkaConfiguration) { self.client = client }

    func nativeProperties(transactionalID: String?) -> [(String, String)] {
        var properties = client.nativeProperties
        properties += [
            ("enable.idempotence", enableIdempotence ? "true" : "false"),
            ("linger.ms", String(lingerMs)),
            ("message.timeout.ms", String(deliveryTimeoutMs)),
            ("queue.buffering.max.messages", String(maxQueuedMessages)),
            ("queue.buffering.max.kbytes", String(maxQueuedKilobytes)),
            ("compression.codec", compression),
            ("allow.auto.create.topics", allowAutoCreateTopics ? "true" : "false"),
        ]
        if let transactionalID { properties.append(("transactional.id", transactionalID)) }
        properties += client.rawProperties(for: .producer)
        return properties
    }

    var nativeTopicProperties: [String: [(String, String)]] {
        topicCompression.mapValues { [("compression.codec", $0)] }
    }
}
