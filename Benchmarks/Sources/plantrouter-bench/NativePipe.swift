import ArgumentParser
import CRdKafka
import Foundation
import Synchronization

/// The physical limit of this machine for the peer benchmark: consume the plant topics and
/// produce every record unchanged (key, value, the same header list) to one topic, through
/// direct librdkafka calls and no processing at all. It runs the same consume–produce cycle
/// as `peers/raw_pipe.py` (batch, produce, flush, store offsets) without Python in between.
///
/// Written against the C API rather than the `Kafka` module on purpose: it is the baseline
/// the module and the router are measured against.
struct NativePipe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Raw consume-produce pipe over librdkafka (the native baseline of Benchmarks/run.sh).")

    @Option(help: "Bootstrap servers.")
    var bootstrap: String

    @Option(help: "Consumer group id.")
    var group: String

    @Option(help: "Topic every record is copied to.")
    var target = "bench.pipe"

    @Option(help: "fetch.wait.max.ms (tansu does not answer a waiting fetch early; see Benchmarks/README.md).")
    var fetchWaitMs = 10

    @Option(help: "compression.codec of the producer (compare like for like with the router's target topics).")
    var compression = "none"

    @Option(help: "Records per consumed batch.")
    var batch = 1000

    @Option(help: "Headers of each produced record: 'passthrough' (the consumed list, unchanged) or 'router' (a new list of the router's output headers for a telemetry event: same names, values of the same lengths), to measure what the output contract alone costs.")
    var headers: HeaderMode = .passthrough

    enum HeaderMode: String, ExpressibleByArgument { case passthrough, router }

    @Argument(help: "Topics to consume.")
    var topics: [String]

    func run() throws {
        let consumer = try makeClient(RD_KAFKA_CONSUMER, [
            ("bootstrap.servers", bootstrap), ("group.id", group), ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", "6000"), ("fetch.wait.max.ms", String(fetchWaitMs)),
            ("enable.auto.commit", "true"), ("enable.auto.offset.store", "false"),
        ])
        let producer = try makeClient(RD_KAFKA_PRODUCER, [
            ("bootstrap.servers", bootstrap), ("linger.ms", "5"), ("enable.idempotence", "true"),
            ("compression.codec", compression),
        ])
        defer { rd_kafka_destroy(producer); rd_kafka_destroy(consumer) }
        rd_kafka_poll_set_consumer(consumer)

        let subscription = rd_kafka_topic_partition_list_new(Int32(topics.count))
        for topic in topics { rd_kafka_topic_partition_list_add(subscription, topic, RD_KAFKA_PARTITION_UA) }
        try check(rd_kafka_subscribe(consumer, subscription), "subscribe")
        rd_kafka_topic_partition_list_destroy(subscription)
        guard let queue = rd_kafka_queue_get_consumer(consumer), let targetTopic = rd_kafka_topic_new(producer, target, nil) else {
            throw ValidationError("librdkafka returned no consumer queue or target topic")
        }
        defer { rd_kafka_topic_destroy(targetTopic); rd_kafka_queue_destroy(queue) }

        signal(SIGTERM) { _ in pipeStopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in pipeStopRequested.store(true, ordering: .relaxed) }
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: batch)
        defer { messages.deallocate() }

        while !pipeStopRequested.load(ordering: .relaxed) {
            let count = rd_kafka_consume_batch_queue(queue, 100, messages, batch)
            guard count > 0 else { continue }
            let positions = rd_kafka_topic_partition_list_new(16)
            defer { rd_kafka_topic_partition_list_destroy(positions) }
            for index in 0..<count {
                guard let message = messages[index] else { continue }
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    forward(message, to: targetTopic, producer: producer)
                    let native = message.pointee
                    if let topic = native.rkt.map({ rd_kafka_topic_name($0) }) {
                        // The highest position per partition wins; store the next offset to read.
                        let entry = rd_kafka_topic_partition_list_find(positions, topic, native.partition)
                            ?? rd_kafka_topic_partition_list_add(positions, topic, native.partition)
                        entry?.pointee.offset = native.offset + 1
                    }
                }
                rd_kafka_message_destroy(message)
            }
            _ = rd_kafka_flush(producer, 30_000)
            if let positions, positions.pointee.cnt > 0 { _ = rd_kafka_offsets_store(consumer, positions) }
        }
        _ = rd_kafka_flush(producer, 30_000)
        _ = rd_kafka_consumer_close(consumer)
    }

    /// Produces `message` with its key and value copied by librdkafka. Its headers: the list
    /// detached from the consumed message and handed over as it is, or (`--headers router`) the
    /// list `routerHeaders` builds.
    private func forward(_ message: UnsafeMutablePointer<rd_kafka_message_t>, to topic: OpaquePointer, producer: OpaquePointer) {
        var headers: OpaquePointer?
        switch self.headers {
        case .passthrough: _ = rd_kafka_message_detach_headers(message, &headers)
        case .router: headers = routerHeaders(of: message)
        }
        let native = message.pointee
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 5) { values in
            var count = 0
            func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var value = rd_kafka_vu_t()
                value.vtype = type
                fill(&value)
                values.initializeElement(at: count, to: value)
                count += 1
            }
            append(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = topic }
            append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            append(RD_KAFKA_VTYPE_VALUE) { $0.u.mem.ptr = native.payload; $0.u.mem.size = native.len }
            if let key = native.key { append(RD_KAFKA_VTYPE_KEY) { $0.u.mem.ptr = key; $0.u.mem.size = native.key_len } }
            if let headers { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
            while true {
                let error = rd_kafka_produceva(producer, values.baseAddress, count)
                guard let error else { return }
                defer { rd_kafka_error_destroy(error) }
                guard rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                    if let headers { rd_kafka_headers_destroy(headers) }
                    FileHandle.standardError.write(Data("produce failed: \(String(cString: rd_kafka_error_string(error)))\n".utf8))
                    return
                }
                _ = rd_kafka_poll(producer, 50)
            }
        }
    }

    /// The headers the router writes on a telemetry event's analytics output (OutputEnvelope: 11,
    /// 12 when the event has a subject), built the same way: one `rd_kafka_header_add` per
    /// header into a new list. Values the router copies from the event (`ce_type`, `ce_time`,
    /// `ce_subject`, the source id) are read from the consumed headers; the ones it computes are
    /// stand-ins of the same length.
    private func routerHeaders(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> OpaquePointer? {
        var consumed: OpaquePointer?
        _ = rd_kafka_message_headers(message, &consumed)
        let list = rd_kafka_headers_new(14)
        func add(_ name: StaticString, _ value: UnsafeRawBufferPointer) {
            _ = rd_kafka_header_add(list, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name.utf8CodeUnitCount,
                                    value.baseAddress, value.count)
        }
        func add(_ name: StaticString, _ value: StaticString) {
            add(name, UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
        }
        func copy(_ name: StaticString, as outputName: StaticString? = nil) {
            var value: UnsafeRawPointer?
            var size = 0
            guard let consumed,
                  rd_kafka_header_get_last(consumed, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), &value, &size)
                    == RD_KAFKA_RESP_ERR_NO_ERROR
            else { return }
            add(outputName ?? name, UnsafeRawBufferPointer(start: value, count: size))
        }
        let key: StaticString = "5f0c3a9e2b7d4e61a8c9f03b7e2d1c45"  // 32 hex digits, as IdempotencyKey
        add("ce_specversion", "1.0")
        add("ce_id", key)
        add("ce_source", "plantrouter/telemetry")
        copy("ce_type")
        add("content-type", "application/json")
        add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        add("policy-version", "2026.03.1")
        add("rule-id", "telemetry-to-analytics")
        add("idempotency-key", key)
        copy("ce_id", as: "source-event-id")
        copy("ce_time")
        copy("ce_subject")
        return list
    }

    private func makeClient(_ kind: rd_kafka_type_t, _ properties: [(String, String)]) throws -> OpaquePointer {
        try RawLibrdkafka.makeClient(kind, RawLibrdkafka.makeConf(properties))
    }

    private func check(_ code: rd_kafka_resp_err_t, _ operation: String) throws {
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw ValidationError("\(operation): \(String(cString: rd_kafka_err2str(code)))")
        }
    }
}

/// Set from the signal handler; read by the pipe loop between batches.
private let pipeStopRequested = Atomic<Bool>(false)
