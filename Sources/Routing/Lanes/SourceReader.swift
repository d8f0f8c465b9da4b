import Kafka
import Logging

/// Where a consumed record sits, and its timestamp: all an at-least-once lane keeps of a
/// record while its outputs are in flight. The record itself is released once librdkafka
/// holds its outputs; a dead letter that needs its bytes reads them again (`SourceReader`).
struct SourcePosition {
    var topicPartition: TopicPartition
    var offset: Int64
    /// Milliseconds since the epoch; -1 if absent.
    var timestampMs: Int64

    init(_ record: ConsumerRecord) {
        topicPartition = record.topicPartition
        offset = record.offset
        timestampMs = record.timestampMs
    }

    var description: String { "\(topicPartition.topic)[\(topicPartition.partition)]@\(offset)" }
}

/// Reads a lane's consumed records again by position, for dead letters written after the
/// record was released (an output that failed every delivery attempt). Kafka is the source of
/// truth: the record is still in its partition, since the lane does not commit past it until
/// its dead letter lands.
///
/// Outputs fail in the order they were produced, which follows the partitions' order, so the
/// reader keeps one partition assigned and reads forward, keeping the records of its last poll
/// for the next request. Created on first use (most lanes never need it), used and closed on the
/// lane's thread only; its waits are bounded and never on the cooperative pool.
final class SourceReader {
    private let configuration: ConsumerConfiguration
    private let logger: Logger
    private var consumer: Consumer?
    private var assigned: TopicPartition?
    /// Records of the assigned partition from the last poll that were not asked for yet, ascending.
    private var ahead: [ConsumerRecord] = []
    /// The next offset the assigned partition's fetch position will return.
    private var position: Int64 = -1

    init(configuration: ConsumerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    enum Result {
        case found(ConsumerRecord)
        /// The partition holds no record at that offset any more (retention deleted it).
        case gone
        /// Not read within the timeout, or the read failed: try again later.
        case unavailable
    }

    /// The record at `source`, waiting at most `timeout`.
    func read(_ source: SourcePosition, timeout: Duration) -> Result {
        let deadline = ContinuousClock.now + timeout
        let target = source.offset
        do {
            let consumer = try self.consumer ?? Consumer(configuration: configuration, logger: logger)
            self.consumer = consumer
            let readsForward = assigned == source.topicPartition && (target >= position || (ahead.first.map { target >= $0.offset } ?? false))
            if !readsForward { try seek(consumer, to: source) }
            while true {
                // The first record at or after the target answers; the ones before it are not wanted.
                if let index = ahead.firstIndex(where: { $0.offset >= target }) {
                    let found = ahead[index]
                    guard found.offset == target else {
                        ahead.removeFirst(index)
                        return .gone
                    }
                    ahead.removeFirst(index + 1)
                    return .found(found)
                }
                ahead.removeAll(keepingCapacity: true)
                guard ContinuousClock.now < deadline else { return .unavailable }
                let batch = try consumer.poll(maxRecords: 64, timeout: .milliseconds(100))
                ahead = batch.records.filter { $0.topicPartition == source.topicPartition }
                if let last = ahead.last { position = last.offset + 1 }
            }
        } catch {
            logger.warning("reading \(source.description) again for its dead letter failed: \(error)")
            assigned = nil
            return .unavailable
        }
    }

    private func seek(_ consumer: Consumer, to source: SourcePosition) throws(KafkaError) {
        try consumer.assign([TopicPartitionOffset(topic: source.topicPartition.topic, partition: source.topicPartition.partition, offset: source.offset)])
        assigned = source.topicPartition
        position = source.offset
        ahead.removeAll()
    }

    /// Closes the reader's consumer, if it was ever created.
    func close() {
        guard let consumer else { return }
        self.consumer = nil
        do { try consumer.close() } catch { logger.warning("closing the dead-letter source reader: \(error)") }
    }
}
