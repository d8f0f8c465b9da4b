/// The outcome of one produced record, as librdkafka reports it once the
/// broker has acknowledged the record or librdkafka has given up on it.
public struct DeliveryReport: Sendable {
    /// The token passed to `Producer.produce`, identifying the record to the caller.
    public var token: UInt64
    public var topic: String
    public var partition: Int32
    /// The record's offset; -1 when delivery failed.
    public var offset: Int64
    /// Why delivery failed after librdkafka's own bounded retries; `nil` on success.
    public var error: KafkaError?
    /// On failure, the record librdkafka gave up on (topic, partition when one was chosen, key,
    /// value, headers, timestamp), copied from its buffers: a caller can retry it without
    /// keeping its own copy of every record in flight. `nil` on success.
    public var failedRecord: ProducerRecord?

    public var succeeded: Bool { error == nil }
}
