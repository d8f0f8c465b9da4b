import CRdKafka
import Foundation
import Logging

/// A Kafka producer. Idempotent by default; delivery reports go to `onDelivery` (for
/// `produce`) or resume the awaiting caller (for `send`), served by a dedicated poll thread or
/// by the producing thread (`DeliveryReports`).
///
/// Thread-safe: `produce` may be called from any thread.
public final class Producer: Sendable {
    /// Which thread serves delivery reports.
    public enum DeliveryReports: Sendable {
        /// A dedicated poll thread: reports arrive however busy the producing thread is.
        case pollThread
        /// The thread that produces, when it calls `serveDeliveryReports()`. librdkafka frees
        /// each delivered record while serving its report: served by the thread that allocated
        /// the record, the memory goes back to that thread's own malloc arena and cache, instead
        /// of a second thread contending for the arena's lock once per header. For one thread
        /// producing at a high rate; `send` needs `.pollThread`.
        case producingThread
    }

    let handle: KafkaHandle
    private let pending: PendingSends
    private let pollThread: PollThread?

    /// - Parameter onDelivery: called on the producer's poll thread for every record
    ///   produced with `produce(_:token:)`; keep it short.
    public convenience init(
        configuration: ProducerConfiguration,
        logger: Logger = Logger(label: "plantrouter.kafka.producer"),
        deliveryReports: DeliveryReports = .pollThread,
        onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil
    ) throws {
        try self.init(configuration: configuration, transactionalID: nil, logger: logger, deliveryReports: deliveryReports, onDelivery: onDelivery)
    }

    init(
        configuration: ProducerConfiguration, transactionalID: String?, logger: Logger, deliveryReports: DeliveryReports = .pollThread,
        onDelivery: (@Sendable (DeliveryReport) -> Void)?
    ) throws {
        let pending = PendingSends()
        let callbacks = ClientCallbacks(logger: logger, cluster: configuration.client.bootstrapServers) { report in
            if PendingSends.owns(report.token) {
                pending.complete(report)
            } else {
                onDelivery?(report)
            }
        }
        let conf = try NativeConfiguration.make(configuration.nativeProperties(transactionalID: transactionalID))
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message else { return }
            let callbacks = ClientCallbacks.from(opaque)
            callbacks.onDelivery?(DeliveryReport(UnsafeMutablePointer(mutating: message), topicNames: callbacks.topicNames))
        }
        let handle = try KafkaHandle(
            kind: RD_KAFKA_PRODUCER, conf: conf, callbacks: callbacks, topicProperties: configuration.nativeTopicProperties)
        self.handle = handle
        self.pending = pending
        switch deliveryReports {
        case .pollThread: pollThread = PollThread(name: "kafka-producer-poll") { _ = rd_kafka_poll(handle.pointer, 100) }
        case .producingThread: pollThread = nil
        }
    }

    deinit { pollThread?.stop() }

    /// Serves the delivery reports that have arrived, on this thread, without waiting: for a
    /// producer made with `.producingThread`, whose owner calls it between batches.
    public func serveDeliveryReports() {
        _ = rd_kafka_poll(handle.pointer, 0)
    }

    /// Enqueues `record` without waiting; its delivery report, carrying `token`,
    /// goes to `onDelivery`. Throws `_QUEUE_FULL` when the local queue is full:
    /// wait for deliveries (backpressure) and try again.
    public func produce(_ record: ProducerRecord, token: UInt64 = 0) throws(KafkaError) {
        precondition(!PendingSends.owns(token), "tokens with the top bit set are reserved")
        try enqueue(record, token: token)
    }

    /// Like `produce`, but when the local queue is full it waits for deliveries
    /// to make room, for at most `timeout` when one is given (then it throws `queueFull`).
    /// Blocks: call it from a dedicated thread.
    public func produceWaitingForRoom(_ record: ProducerRecord, token: UInt64 = 0, giveUpAfter timeout: Duration? = nil) throws(KafkaError) {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            do {
                return try produce(record, token: token)
            } catch {
                if error.code != .queueFull { throw error }
                if let deadline, ContinuousClock.now >= deadline { throw error }
            }
            if pollThread == nil { serveDeliveryReports() }
            usleep(1000)
        }
    }

    /// Produces `record` and waits for its delivery report. Throws the delivery
    /// error if librdkafka gives up on the record.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws -> DeliveryReport {
        precondition(pollThread != nil, "send awaits a report only a poll thread serves; this producer's owner serves them")
        while true {
            do {
                return try await withCheckedThrowingContinuation { continuation in
                    let token = pending.register(continuation)
                    do throws(KafkaError) {
                        try enqueue(record, token: token)
                    } catch {
                        pending.fail(token, with: error)
                    }
                }
            } catch let error as KafkaError where error.code == .queueFull {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// Waits until every queued record has a delivery report.
    public func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        try KafkaError.check(rd_kafka_flush(handle.pointer, timeout.milliseconds), "flush producer")
    }

    /// The fatal error librdkafka raised on this producer (e.g. fenced), if any.
    public var fatalError: KafkaError? { handle.fatalError(operation: "produce") }

    /// Fetches metadata for `topics` now, so the first record to each does not
    /// wait for a metadata round trip while the pipeline is already running.
    /// Blocks: call it before traffic starts, off the cooperative pool.
    public func warmUp(topics: [String], timeout: Duration = .seconds(10)) throws(KafkaError) {
        for topic in topics {
            guard let handle = rd_kafka_topic_new(self.handle.pointer, topic, nil) else { continue }
            defer { rd_kafka_topic_destroy(handle) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try KafkaError.check(rd_kafka_metadata(self.handle.pointer, 0, handle, &metadata, timeout.milliseconds), "read metadata of \(topic)")
            rd_kafka_metadata_destroy(metadata)
        }
    }

    /// Records queued or in flight, not yet reported.
    public var queuedCount: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// Flushes, then stops the poll thread. The producer cannot be used afterwards.
    public func close(timeout: Duration = .seconds(30)) throws(KafkaError) {
        defer { pollThread?.stop() }
        try flush(timeout: timeout)
    }

    func enqueue(_ record: ProducerRecord, token: UInt64) throws(KafkaError) {
        let nativeHeaders = record.headers.isEmpty ? nil : try record.makeNativeHeaders()
        let error = record.topic.withCString { topic in
            record.key.withOptionalBytes { key in
                record.value.withOptionalBytes { value in
                    produceNative(topic: topic, partition: record.partition, key: key, value: value, timestampMs: record.timestampMs,
                                  headers: nativeHeaders, token: token)
                }
            }
        }
        if error != nil, let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
        try KafkaError.check(error, "produce to \(record.topic)")
    }

    /// Hands one record to `rd_kafka_produceva` (the variadic `producev` cannot be called from
    /// Swift). librdkafka copies key and value (`RD_KAFKA_MSG_F_COPY`) and takes ownership of
    /// the header list on success; on failure the caller still owns it.
    func produceNative(
        topic: UnsafePointer<CChar>, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestampMs: Int64?,
        headers: OpaquePointer?, token: UInt64
    ) -> OpaquePointer? {
        // On the stack: a heap array here cost an allocation per record.
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { values in
            var count = 0
            func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var entry = rd_kafka_vu_t()
                entry.vtype = type
                fill(&entry)
                values.initializeElement(at: count, to: entry)
                count += 1
            }
            append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
            append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition ?? RD_KAFKA_PARTITION_UA }
            append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
            if let key {
                append(RD_KAFKA_VTYPE_KEY) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress ?? emptyBytes)
                    $0.u.mem.size = key.count
                }
            }
            if let value {
                append(RD_KAFKA_VTYPE_VALUE) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress ?? emptyBytes)
                    $0.u.mem.size = value.count
                }
            }
            if let timestampMs { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestampMs } }
            if let headers { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
            return rd_kafka_produceva(handle.pointer, values.baseAddress, count)
        }
    }
}

extension DeliveryReport {
    /// Only a failed report copies the record's bytes (`failedRecord`); a successful one copies
    /// nothing but the topic name.
    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topicNames: TopicNames) {
        let native = message.pointee
        let topic = native.rkt.map { topicNames.name(of: $0) } ?? ""
        let failed = native.err != RD_KAFKA_RESP_ERR_NO_ERROR
        self.init(
            token: UInt64(UInt(bitPattern: native._private)),
            topic: topic,
            partition: native.partition,
            offset: failed ? -1 : native.offset,
            error: failed ? KafkaError(operation: "deliver record", code: KafkaErrorCode(native.err)) : nil,
            failedRecord: failed ? ProducerRecord(returnedBy: message, topic: topic) : nil
        )
    }
}

extension ProducerRecord {
    /// A produced record as librdkafka hands it back in a delivery report: the bytes it copied
    /// at `produce` (`RD_KAFKA_MSG_F_COPY`) and the header list it took over. Copied out, since
    /// librdkafka frees the message when the report callback returns.
    init(returnedBy message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let consumed = ConsumerRecord(message, topic: topic)
        self.init(
            topic: topic, partition: consumed.partition >= 0 ? consumed.partition : nil, key: consumed.key, value: consumed.value,
            headers: consumed.headers, timestampMs: consumed.timestampMs >= 0 ? consumed.timestampMs : nil)
    }
}

extension ProducerRecord {
    /// The header list `rd_kafka_produceva` takes over. Names go with their length: passing a
    /// `String` where C wants a `char *` copies a short (inline) string to the heap first, one
    /// allocation per header of every output.
    func makeNativeHeaders() throws(KafkaError) -> OpaquePointer {
        // librdkafka aborts rather than return NULL when out of memory; checked all the same.
        guard let list = rd_kafka_headers_new(headers.count) else {
            throw KafkaError(operation: "produce to \(topic)", code: KafkaErrorCode(RD_KAFKA_RESP_ERR__FAIL), message: "no header list")
        }
        for header in headers {
            header.name.utf8.withContiguousBytes { name in
                let nameBytes = (name.baseAddress ?? emptyBytes).assumingMemoryBound(to: CChar.self)
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(list, nameBytes, name.count, bytes.baseAddress ?? emptyBytes, bytes.count)
                    }
                } else {
                    _ = rd_kafka_header_add(list, nameBytes, name.count, nil, 0)
                }
            }
        }
        return list
    }
}

/// librdkafka reads a null pointer as a null key or value; an empty one needs
/// a valid pointer with length 0, and an empty array has no base address.
/// Never written, so sharing it across threads is safe.
nonisolated(unsafe) let emptyBytes = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with the bytes, or with `nil` for a null key or value.
    func withOptionalBytes<Result>(_ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        switch self {
        case .some(let bytes): bytes.withUnsafeBytes { body($0) }
        case .none: body(nil)
        }
    }
}

extension Duration {
    /// Whole milliseconds, clamped to what librdkafka's `int` timeouts accept.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: total)
    }
}
