import CRdKafka

/// The consumer's group generation and member id, which a transactional producer
/// needs to commit consumed offsets inside its transaction (and be fenced if the
/// group has moved on).
public final class ConsumerGroupMetadata: @unchecked Sendable {
    // Immutable after creation; librdkafka only reads it.
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { rd_kafka_consumer_group_metadata_destroy(pointer) }
}
