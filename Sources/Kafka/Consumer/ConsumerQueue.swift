import CRdKafka
import Foundation

/// The consumer's queue, read in batches and copied into Swift records.
/// Polled from one thread at a time (see `Consumer`).
///
/// A poll waits for the first message (`rd_kafka_consume_queue`), then takes what is already
/// queued without waiting. With librdkafka 2.1.0 or later it takes the rest in one call
/// (`rd_kafka_consume_batch_queue`, timeout 0), which pops them under one lock: ~0.15 µs less
/// CPU per message than popping them one by one (Benchmarks/NOTES.md). Before 2.1.0
/// (Debian ships 2.0.2) the batch call intermittently skips offsets of a partition that is
/// paused and resumed, which a cooperative rebalance does to every partition a member keeps
/// (librdkafka PR #4235; KafkaTests' rebalance test lost records that way): there the rest is
/// taken one message at a time. Waiting for the first message alone keeps a quiet lane's
/// latency: the batch call waits until its array is full or its timeout passes.
final class ConsumerQueue: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// The last record's headers, which the next record's equal headers share (see
    /// `RepeatedHeaders`). Touched only inside `poll`, which one thread calls at a time.
    private var repeatedHeaders = RepeatedHeaders()
    /// The batch call's message array, kept between polls (same confinement).
    private var messages: [UnsafeMutablePointer<rd_kafka_message_t>?] = []

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { rd_kafka_queue_destroy(pointer) }

    /// Appends to `batch` (which the caller has emptied) what one poll brings.
    func poll(into batch: inout ConsumerBatch, maxRecords: Int, timeoutMs: Int32) {
        guard maxRecords > 0 else { return }
        // Topic names repeat across a batch; copying each once saves an allocation per record.
        var topicNames: [(OpaquePointer, String)] = []
        func topicName(_ rkt: OpaquePointer?) -> String {
            guard let rkt else { return "" }
            if let known = topicNames.first(where: { $0.0 == rkt }) { return known.1 }
            let name = String(cString: rd_kafka_topic_name(rkt))
            topicNames.append((rkt, name))
            return name
        }
        // Wait for the first message, then take what is already queued without waiting.
        guard let first = rd_kafka_consume_queue(pointer, timeoutMs) else { return }
        guard Self.batchCallIsSafe else {
            take(first, into: &batch, topicName: topicName)
            var taken = 1
            while taken < maxRecords, let message = rd_kafka_consume_queue(pointer, 0) {
                take(message, into: &batch, topicName: topicName)
                taken += 1
            }
            return
        }
        if messages.isEmpty { messages = Array(repeating: nil, count: Self.messagesPerBatchCall) }
        // The first message waits until the batch call says how many follow: the records array
        // then grows once, to its size, when the caller's array is not already large enough.
        // Reserving for `maxRecords` up front made every poll allocate ~70 KiB, however few
        // records it returned.
        var waiting: UnsafeMutablePointer<rd_kafka_message_t>? = first
        var taken = 1
        while true {
            let wanted = min(maxRecords - taken, messages.count)
            let count = wanted <= 0 ? 0 : min(wanted, max(0, messages.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_consume_batch_queue(pointer, 0, buffer.baseAddress, wanted)
            }))
            batch.records.reserveCapacity(batch.records.count + count + (waiting == nil ? 0 : 1))
            if let message = waiting.take() { take(message, into: &batch, topicName: topicName) }
            for index in 0..<count {
                if let message = messages[index] { take(message, into: &batch, topicName: topicName) }
                messages[index] = nil
            }
            taken += count
            if count < wanted || wanted <= 0 { break }
        }
    }

    /// Copies one message into `batch` as a record, an end of partition or an error, and frees it.
    private func take(
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, into batch: inout ConsumerBatch, topicName: (OpaquePointer?) -> String
    ) {
        defer { rd_kafka_message_destroy(message) }
        let native = message.pointee
        switch native.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            batch.records.append(ConsumerRecord(message, topic: topicName(native.rkt), sharing: &repeatedHeaders))
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            batch.partitionsAtEnd.append(
                TopicPartitionOffset(topic: topicName(native.rkt), partition: native.partition, offset: native.offset))
        default:
            let text = native.payload.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
            batch.errors.append(KafkaError(operation: "consume \(topicName(native.rkt))", code: KafkaErrorCode(native.err), message: text))
        }
    }

    /// librdkafka 2.1.0 (`rd_kafka_version()` encoding) fixed the batch call skipping offsets.
    static let batchCallIsSafe = rd_kafka_version() >= 0x0201_0000
    /// Most messages one batch call returns: the size of the array it fills.
    static let messagesPerBatchCall = 1024
}

extension ConsumerRecord {
    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        var unshared = RepeatedHeaders()
        self.init(message, topic: topic, sharing: &unshared)
    }

    /// Copies the message out of librdkafka's buffers; headers equal to the previous record's at
    /// the same position share its arrays.
    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String, sharing repeated: inout RepeatedHeaders) {
        let native = message.pointee
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        self.init(
            topic: topic,
            partition: native.partition,
            offset: native.offset,
            timestampMs: rd_kafka_message_timestamp(message, &timestampType),
            key: native.key.map { copyBytes($0, native.key_len) },
            value: native.payload.map { copyBytes($0, native.len) },
            headers: repeated.headers(of: message)
        )
    }
}

/// Reads a message's headers, reusing the previous record's header where name and value are the
/// same bytes at the same position. Plant events repeat most of their headers from record to
/// record (spec version, content type, source, type): sharing the array is a compare where a
/// copy would be an allocation now and a free later, per header of every record.
struct RepeatedHeaders {
    private var previous: [KafkaHeader] = []

    mutating func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(rd_kafka_header_cnt(list))
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let nameBytes = name.map { UnsafeRawBufferPointer(start: $0, count: strlen($0)) }
            let valueBytes = value.map { UnsafeRawBufferPointer(start: $0, count: size) }
            if index < previous.count, previous[index].has(name: nameBytes, value: valueBytes) {
                headers.append(previous[index])
            } else {
                headers.append(KafkaHeader(
                    name: nameBytes.map { String(decoding: $0, as: UTF8.self) } ?? "",
                    value: valueBytes.map { Array($0) }))
            }
            index += 1
        }
        previous = headers
        return headers
    }
}

extension KafkaHeader {
    /// Whether this header is byte for byte `name` and `value` (a nil name reads as "").
    fileprivate func has(name other: UnsafeRawBufferPointer?, value otherValue: UnsafeRawBufferPointer?) -> Bool {
        guard name.utf8.withContiguousBytes({ sameBytes($0, other) }) else { return false }
        switch (value, otherValue) {
        case (nil, nil): return true
        case (let mine?, let theirs?): return mine.withUnsafeBytes { sameBytes($0, theirs) }
        default: return false
        }
    }
}

/// Copies bytes librdkafka owns into a Swift array. `Array(UnsafeBufferPointer<UInt8>)`
/// measured fastest here (54 ns for 200 bytes, against 62 ns through
/// `UnsafeRawBufferPointer` and 122 ns through `init(unsafeUninitializedCapacity:)`).
@inline(__always)
func copyBytes(_ source: UnsafeRawPointer, _ count: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: source.assumingMemoryBound(to: UInt8.self), count: count))
}
