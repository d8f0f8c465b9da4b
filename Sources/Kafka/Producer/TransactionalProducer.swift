import CRdKafka
import Logging

/// A producer whose records and consumed offsets commit or abort together
/// (consume → produce → send offsets → commit), read exactly once by
/// `read_committed` consumers.
///
/// Errors carry librdkafka's split (see `KafkaError`): `isRetriable` — call
/// the same method again; `requiresTransactionAbort` — abort, rewind the
/// consumer to the last committed offsets, start over; `isFatal` — the
/// producer is fenced or broken: close it and create a new one.
///
/// The transaction calls block until the coordinator answers: call them from
/// a dedicated thread, or use the `async` variants.
public final class TransactionalProducer: Sendable {
    public let producer: Producer
    public let transactionalID: String

    /// - Parameter transactionalID: stable per logical producer (e.g. per lane and
    ///   instance slot) so a restarted instance fences its zombie predecessor.
    public init(
        configuration: ProducerConfiguration,
        transactionalID: String,
        logger: Logger = Logger(label: "plantrouter.kafka.transactional-producer"),
        onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil
    ) throws {
        var configuration = configuration
        configuration.enableIdempotence = true
        producer = try Producer(
            configuration: configuration, transactionalID: transactionalID, logger: logger, onDelivery: onDelivery)
        self.transactionalID = transactionalID
    }

    private var pointer: OpaquePointer { producer.handle.pointer }

    /// Registers with the transaction coordinator and fences older producers
    /// with the same transactional id. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try KafkaError.check(rd_kafka_init_transactions(pointer, timeout.milliseconds), "init transactions")
    }

    public func beginTransaction() throws(KafkaError) {
        try KafkaError.check(rd_kafka_begin_transaction(pointer), "begin transaction")
    }

    /// Produces inside the current transaction.
    public func produce(_ record: ProducerRecord, token: UInt64 = 0) throws(KafkaError) {
        try producer.produce(record, token: token)
    }

    /// Adds the consumer's progress to the transaction: the offsets commit if and
    /// only if the transaction does. Pass each partition's next offset to read.
    public func sendOffsets(
        _ offsets: [TopicPartitionOffset], group: ConsumerGroupMetadata, timeout: Duration = .seconds(30)
    ) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = NativePartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(
            rd_kafka_send_offsets_to_transaction(pointer, list, group.pointer, timeout.milliseconds),
            "send offsets to transaction")
    }

    /// Flushes the transaction's records and commits them with its offsets.
    public func commitTransaction(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try KafkaError.check(rd_kafka_commit_transaction(pointer, timeout.milliseconds), "commit transaction")
    }

    /// Discards the transaction's records and offsets.
    public func abortTransaction(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try KafkaError.check(rd_kafka_abort_transaction(pointer, timeout.milliseconds), "abort transaction")
    }

    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.initTransactions(timeout: timeout) }
    }

    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.commitTransaction(timeout: timeout) }
    }

    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.abortTransaction(timeout: timeout) }
    }

    public func sendOffsets(
        _ offsets: [TopicPartitionOffset], group: ConsumerGroupMetadata, timeout: Duration = .seconds(30)
    ) async throws {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.sendOffsets(offsets, group: group, timeout: timeout) }
    }

    /// Flushes and stops the producer's poll thread.
    public func close(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try producer.close(timeout: timeout)
    }
}
