import CRdKafka
import Logging

/// librdkafka's in-process Kafka cluster: real brokers speaking the Kafka
/// protocol on loopback TCP, with consumer groups, idempotence and
/// transactions, plus fault injection. Any client can connect to
/// `bootstrapServers`, in this process or another (kcat, a second router).
///
/// Limits of librdkafka 2.0.2's mock, each seen in KafkaTests:
/// - each partition keeps at most 5 MB (and 100 000 batches) of log; older
///   batches are dropped silently, so a reader from the beginning never sees
///   them. What looks like a fetch stall with large backlogs is this: spread
///   volume over partitions (100k records of 200 bytes need 6 or more);
/// - no CreateTopics request: `Admin.createTopics` ends in `_TIMED_OUT`
///   ("waiting for controller") after its timeout; use `createTopics` here;
/// - the replication factor is not honoured (a factor of 2 on 3 brokers
///   gives 3 replicas);
/// - transactions commit and abort, but no markers are written, so
///   `read_committed` readers also see aborted records, and offsets sent
///   with `TransactionalProducer.sendOffsets` are acknowledged, never stored.
///
/// Thread-safe: librdkafka forwards every call to the cluster's own thread.
public final class EmbeddedCluster: @unchecked Sendable {
    // Owns the client instance the mock cluster is tied to; the cluster is destroyed first.
    private let handle: KafkaHandle
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    public let brokerCount: Int32

    public init(brokers: Int32 = 3, logger: Logger = Logger(label: "plantrouter.kafka.embedded")) throws {
        let conf = try NativeConfiguration.make([("client.id", "embedded-cluster"), ("log_level", "3")])
        handle = try KafkaHandle(kind: RD_KAFKA_PRODUCER, conf: conf, callbacks: ClientCallbacks(logger: logger, cluster: "embedded"))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, brokers) else {
            throw KafkaError(operation: "start embedded cluster", code: .fatal, message: "rd_kafka_mock_cluster_new failed")
        }
        self.cluster = cluster
        self.brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    /// Client settings that reach this cluster.
    public var configuration: KafkaConfiguration { KafkaConfiguration(bootstrapServers: bootstrapServers) }

    /// Creates each topic (the embedded brokers do not serve CreateTopics requests).
    /// Replication is capped at the broker count, and librdkafka 2.0.2 places
    /// replicas as it likes; topic configs are not modelled.
    public func createTopics(_ topics: [TopicSpec]) throws(KafkaError) {
        for topic in topics {
            try KafkaError.check(
                rd_kafka_mock_topic_create(cluster, topic.name, topic.partitions, min(topic.replicationFactor, brokerCount)),
                "create topic \(topic.name)")
        }
    }

    public func createTopic(_ name: String, partitions: Int32 = 1, replicationFactor: Int32 = 1) throws(KafkaError) {
        try createTopics([TopicSpec(name: name, partitions: partitions, replicationFactor: replicationFactor)])
    }

    /// Sets the versions of one request type the brokers accept. By default they answer
    /// Metadata only up to v2, which cannot carry `AllowAutoTopicCreation` (v4), so they
    /// auto-create every topic a client asks about, whatever `allow.auto.create.topics` says;
    /// with Metadata up to v4 they honour the flag as a real broker does.
    public func setAPIVersions(_ api: KafkaAPIKey, minimum: Int16, maximum: Int16) throws(KafkaError) {
        try KafkaError.check(
            rd_kafka_mock_set_apiversion(cluster, api.rawValue, minimum, maximum), "set versions of API \(api.rawValue)")
    }

    /// Takes a broker off the network: its connections drop and it accepts none.
    public func setBrokerDown(_ brokerID: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_down(cluster, brokerID), "set broker \(brokerID) down")
    }

    public func setBrokerUp(_ brokerID: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_up(cluster, brokerID), "set broker \(brokerID) up")
    }

    /// Adds `milliseconds` of round-trip delay to every response of a broker.
    public func setBrokerRTT(_ brokerID: Int32, milliseconds: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_rtt(cluster, brokerID, milliseconds), "set RTT of broker \(brokerID)")
    }

    /// Moves a partition's leadership (clients see NOT_LEADER and follow).
    public func setLeader(topic: String, partition: Int32, brokerID: Int32) throws(KafkaError) {
        try KafkaError.check(
            rd_kafka_mock_partition_set_leader(cluster, topic, partition, brokerID),
            "move leader of \(topic)[\(partition)] to broker \(brokerID)")
    }

    /// The next `errors.count` requests of type `api`, on any broker, fail with
    /// these errors in order. `_TRANSPORT` disconnects the client instead.
    public func injectErrors(_ errors: [KafkaErrorCode], on api: KafkaAPIKey) {
        let native = errors.map(\.native)
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, native.count, native)
    }

    /// Drops errors injected for `api` that have not fired yet.
    public func clearInjectedErrors(on api: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Makes metadata report `error` for `topic` until cleared with `.noError`.
    public func setTopicError(_ topic: String, _ error: KafkaErrorCode) {
        rd_kafka_mock_topic_set_error(cluster, topic, error.native)
    }
}
