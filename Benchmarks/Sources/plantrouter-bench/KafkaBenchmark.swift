import ArgumentParser
import CRdKafka
import Foundation
import Kafka
import Logging
import Synchronization

/// Produce then consume N messages on a fresh embedded cluster (or a fresh topic of an
/// external broker, `--bootstrap`), once through
/// direct librdkafka C calls and once through the `Kafka` module, with the
/// same topic layout and the same client settings, and print the ratio.
struct KafkaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce then consume on the embedded cluster, Swift layer against raw librdkafka calls."
    )

    @Option(help: "Messages per run and side.")
    var messages = 100_000

    @Option(help: "Value size in bytes.")
    var size = 200

    @Option(help: "Runs; medians are reported.")
    var runs = 3

    @Option(help: "Partitions of the benchmark topic; records go round-robin. The embedded cluster keeps at most 5 MB per partition (librdkafka 2.0.2 drops older batches beyond that), so keep messages × size / partitions under about 4 MB.")
    var partitions: Int32 = 6

    @Option(help: "Brokers in the embedded cluster.")
    var brokers: Int32 = 3

    @Option(help: "compression.codec for both producers.")
    var compression = "none"

    @Option(help: "How the raw side reads after waiting for a first message: 'poll' (rd_kafka_consume_queue per message) or 'batch' (one rd_kafka_consume_batch_queue call, which skips offsets across pause/resume and cooperative rebalances before librdkafka 2.1.0). Default: what the Swift layer does with the loaded librdkafka, batch from 2.1.0.")
    var rawConsume: String?

    @Option(help: "Which side to run: both, raw or swift (one side alone is for profilers).")
    var side = "both"

    @Option(help: "Bootstrap servers of an external broker (Benchmarks/run.sh starts tansu). Default: a fresh embedded cluster per run, whose rates are bounded by the mock broker rather than the client on small machines.")
    var bootstrap: String?

    @Option(help: "fetch.wait.max.ms for both consumers (tansu answers a waiting fetch only when the wait ends: use 10 there).")
    var fetchWaitMs: Int?

    func run() async throws {
        var settings = BenchSettings(
            messages: messages, size: size, partitions: partitions, compression: compression,
            rawBatchConsume: rawConsume.map { $0 == "batch" } ?? (rd_kafka_version() >= 0x0201_0000))
        if let fetchWaitMs { settings.extraConsumerProperties = [("fetch.wait.max.ms", String(fetchWaitMs))] }
        let perPartition = Double(messages) * Double(size + 30) / Double(partitions)
        if perPartition > 4.5 * 1024 * 1024 {
            print("warning: about \(Int(perPartition / 1024)) KB per partition; the embedded cluster drops batches beyond 5 MB per partition and the consume side will never finish. Add partitions.")
        }
        let where_ = bootstrap.map { "the broker at \($0)" } ?? "\(brokers) embedded brokers"
        print("kafka: \(messages) messages of \(size) bytes, \(partitions) partitions on \(where_), "
            + "\(runs) runs, librdkafka \(String(cString: rd_kafka_version_str()))")
        let producerSettings: String = settings.sharedProducerProperties.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        let consumerSettings: String = settings.sharedConsumerProperties.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        let rawRead = "rd_kafka_consume_queue for the first message, then " + (settings.rawBatchConsume ? "rd_kafka_consume_batch_queue" : "rd_kafka_consume_queue per message")
        print("client settings (both sides): \(producerSettings) | consumer: \(consumerSettings) | raw reads with \(rawRead)")

        var raw: [Rates] = []
        var swift: [Rates] = []
        for run in 0..<max(1, runs) {
            // Alternate which side goes first, so warm-up favours neither.
            let order: [Bool] = run % 2 == 0 ? [true, false] : [false, true]
            for isRaw in order where side == "both" || (side == "raw") == isRaw {
                // A fresh cluster per run, or a fresh topic on the external broker.
                let client: KafkaConfiguration
                var cluster: EmbeddedCluster?
                if let bootstrap {
                    client = KafkaConfiguration(bootstrapServers: bootstrap)
                    settings.topic = "bench-kafka-\(UUID().uuidString.prefix(8))"
                    try await Admin(configuration: client, logger: quietLogger)
                        .createTopics([TopicSpec(name: settings.topic, partitions: partitions, replicationFactor: 1)], ignoreExisting: false)
                } else {
                    let embedded = try EmbeddedCluster(brokers: brokers, logger: quietLogger)
                    try embedded.createTopic(settings.topic, partitions: partitions, replicationFactor: 1)
                    client = embedded.configuration
                    cluster = embedded
                }
                let rates = isRaw
                    ? try RawLibrdkafka.run(settings, bootstrap: client.bootstrapServers)
                    : try SwiftLayer.run(settings, client: client)
                withExtendedLifetime(cluster) {}
                if isRaw { raw.append(rates) } else { swift.append(rates) }
                print(String(format: "  run %d %@: produce %9.0f msg/s (%.2f us CPU/msg)  consume %9.0f msg/s (%.2f us CPU/msg, consuming thread %.2f us/msg)",
                             run + 1, isRaw ? "raw  " : "swift", rates.produce, rates.produceCPUMicros,
                             rates.consume, rates.consumeCPUMicros, rates.consumeThreadCPUMicros))
            }
        }

        guard !raw.isEmpty, !swift.isEmpty else { return }
        let rawProduce = median(raw.map(\.produce)), swiftProduce = median(swift.map(\.produce))
        let rawConsume = median(raw.map(\.consume)), swiftConsume = median(swift.map(\.consume))
        print("")
        print("| medians of \(raw.count) runs | raw librdkafka (msg/s) | Swift Kafka module (msg/s) | Swift / raw |")
        print("|---|---:|---:|---:|")
        print(String(format: "| produce (to all delivery reports) | %.0f | %.0f | %.2f |", rawProduce, swiftProduce, swiftProduce / rawProduce))
        print(String(format: "| consume (batches, all records) | %.0f | %.0f | %.2f |", rawConsume, swiftConsume, swiftConsume / rawConsume))
        let cpu = [\Rates.produceCPUMicros, \Rates.consumeCPUMicros, \Rates.consumeThreadCPUMicros].map { path in
            (median(raw.map { $0[keyPath: path] }), median(swift.map { $0[keyPath: path] }))
        }
        print("")
        print("| medians, CPU per message | raw (us) | Swift (us) | Swift - raw (us) |")
        print("|---|---:|---:|---:|")
        for (name, (r, s)) in zip(["produce, whole process", "consume, whole process", "consume, consuming thread"], cpu) {
            print(String(format: "| %@ | %.2f | %.2f | %+.2f |", name, r, s, s - r))
        }
    }
}

struct Rates {
    var produce: Double
    var consume: Double
    /// Process CPU time per message (all threads, the embedded brokers included),
    /// less sensitive than wall time to what else the machine is doing.
    var produceCPUMicros: Double = 0
    var consumeCPUMicros: Double = 0
    /// CPU time per message of the thread that consumes (the application's thread).
    var consumeThreadCPUMicros: Double = 0
}

/// CPU seconds of the whole process.
func processCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// CPU seconds of the calling thread.
func threadCPU() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Times `body` by wall clock, process CPU and this thread's CPU.
func measured<T>(_ body: () throws -> T) rethrows -> (T, wall: Double, cpu: Double, thread: Double) {
    let (start, cpu, thread) = (ContinuousClock.now, processCPU(), threadCPU())
    let result = try body()
    return (result, seconds(ContinuousClock.now - start), processCPU() - cpu, threadCPU() - thread)
}

struct BenchSettings {
    let messages: Int
    let size: Int
    let partitions: Int32
    let compression: String
    let rawBatchConsume: Bool
    var topic = "bench"
    let lingerMs = 5
    let maxQueued = 100_000
    let deliveryTimeoutMs = 30_000
    let batchSize = 500

    /// Exactly what the Swift layer's `ProducerConfiguration` sets, repeated for the raw producer.
    var sharedProducerProperties: [(String, String)] {
        [
            ("client.id", "plantrouter"),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", String(lingerMs)),
            ("message.timeout.ms", String(deliveryTimeoutMs)),
            ("queue.buffering.max.messages", String(maxQueued)),
            ("compression.codec", compression),
        ]
    }

    /// Exactly what the Swift layer's `ConsumerConfiguration` sets, repeated for the raw consumer:
    /// its prefetch bounds too, read from its defaults, so both sides fetch alike.
    var sharedConsumerProperties: [(String, String)] {
        let swift = ConsumerConfiguration(client: KafkaConfiguration(bootstrapServers: "unused"), groupID: "unused")
        var properties = [
            ("client.id", "plantrouter"),
            ("auto.offset.reset", "earliest"),
            ("isolation.level", "read_committed"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", "10000"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"),
            ("queued.max.messages.kbytes", String(swift.prefetchKilobytes)),
            ("queued.min.messages", String(swift.prefetchMessagesPerPartition)),
            ("fetch.max.bytes", String(swift.fetchMaxBytes)),
            ("max.partition.fetch.bytes", String(swift.partitionFetchMaxBytes)),
        ]
        // Set by the Swift layer only where the loaded librdkafka knows it (2.2.0 on).
        if rd_kafka_version() >= 0x0202_0000 { properties.append(("fetch.queue.backoff.ms", String(swift.prefetchBackoffMs))) }
        return properties
    }

    /// Set on both sides when the broker needs it (tansu does not answer a waiting fetch early).
    var extraConsumerProperties: [(String, String)] = []

    /// The same 64 keys and one value buffer on both sides.
    var keys: [[UInt8]] { (0..<64).map { Array("asset-\($0)".utf8) } }
    var value: [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }
}

let quietLogger: Logger = {
    var logger = Logger(label: "plantrouter.bench.kafka")
    logger.logLevel = .error
    return logger
}()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

// MARK: - Swift layer

enum SwiftLayer {
    static func run(_ settings: BenchSettings, client: KafkaConfiguration) throws -> Rates {
        let keys = settings.keys
        let value = settings.value

        var configuration = ProducerConfiguration(client: client)
        configuration.lingerMs = settings.lingerMs
        configuration.maxQueuedMessages = settings.maxQueued
        configuration.deliveryTimeoutMs = settings.deliveryTimeoutMs
        configuration.compression = settings.compression
        configuration.client.properties["acks"] = "all"
        let delivered = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let producer = try Producer(configuration: configuration, logger: quietLogger) { report in
            if report.succeeded {
                delivered.add(1, ordering: .relaxed)
            } else {
                failed.add(1, ordering: .relaxed)
            }
        }
        let (_, produceTime, produceCPU, _) = try measured {
        for index in 0..<settings.messages {
            let record = ProducerRecord(
                topic: settings.topic, partition: Int32(index % Int(settings.partitions)), key: keys[index & 63], value: value)
            while !(try enqueue(producer, record, token: UInt64(index))) {
                Thread.sleep(forTimeInterval: 0.0005)
            }
        }
        try producer.flush(timeout: .seconds(120))
        }
        guard delivered.load(ordering: .relaxed) == settings.messages, failed.load(ordering: .relaxed) == 0 else {
            throw ValidationError("swift produce: \(delivered.load(ordering: .relaxed)) delivered, \(failed.load(ordering: .relaxed)) failed")
        }
        try producer.close()

        var consumerConfiguration = ConsumerConfiguration(client: client, groupID: "bench-swift-\(settings.topic)")
        consumerConfiguration.sessionTimeoutMs = 10_000
        for (key, value) in settings.extraConsumerProperties { consumerConfiguration.client.properties[key] = value }
        let consumer = try Consumer(configuration: consumerConfiguration, logger: quietLogger)
        let (received, consumeTime, consumeCPU, consumeThread) = try measured { () throws -> Int in
        try consumer.assign((0..<settings.partitions).map {
            TopicPartitionOffset(topic: settings.topic, partition: $0, offset: TopicPartitionOffset.beginning)
        })
        var received = 0
        var checksum = 0
        // One batch refilled by every poll, as a lane does (`LaneContext.poll`).
        var batch = ConsumerBatch()
        let deadline = ContinuousClock.now + .seconds(120)
        while received < settings.messages, ContinuousClock.now < deadline {
            try consumer.poll(into: &batch, maxRecords: settings.batchSize, timeout: .milliseconds(100))
            for record in batch.records {
                checksum &+= (record.value?.count ?? 0) &+ Int(record.value?.first ?? 0)
            }
            received += batch.records.count
        }
        if checksum == 42 { print("") }
        return received
        }
        guard received == settings.messages else { throw ValidationError("swift consume: \(received) of \(settings.messages)") }
        try consumer.close()
        let n = Double(settings.messages)
        return Rates(
            produce: n / produceTime, consume: n / consumeTime, produceCPUMicros: produceCPU / n * 1e6,
            consumeCPUMicros: consumeCPU / n * 1e6, consumeThreadCPUMicros: consumeThread / n * 1e6)
    }
}

/// `false` when librdkafka's queue is full. (A `catch … where` on the typed
/// error inside the produce loop crashes the 6.3.1 optimiser.)
private func enqueue(_ producer: Producer, _ record: ProducerRecord, token: UInt64) throws -> Bool {
    do {
        try producer.produce(record, token: token)
        return true
    } catch {
        guard error.code == .queueFull else { throw error }
        return false
    }
}

// MARK: - Raw librdkafka

enum RawLibrdkafka {
    /// Delivery counts, touched only by the thread that polls (this one).
    final class Deliveries {
        var delivered = 0
        var failed = 0
    }

    static func run(_ settings: BenchSettings, bootstrap: String) throws -> Rates {
        let keys = settings.keys
        let value = settings.value

        // Produce.
        let deliveries = Deliveries()
        let producerConf = try makeConf([("bootstrap.servers", bootstrap)] + settings.sharedProducerProperties)
        rd_kafka_conf_set_opaque(producerConf, Unmanaged.passUnretained(deliveries).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(producerConf) { _, message, opaque in
            let deliveries = Unmanaged<Deliveries>.fromOpaque(opaque!).takeUnretainedValue()
            if message!.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR { deliveries.delivered += 1 } else { deliveries.failed += 1 }
        }
        rd_kafka_conf_set_log_cb(producerConf) { _, level, _, _ in _ = level }
        let producer = try makeClient(RD_KAFKA_PRODUCER, producerConf)
        defer { rd_kafka_destroy(producer) }
        let topic = rd_kafka_topic_new(producer, settings.topic, nil)!
        defer { rd_kafka_topic_destroy(topic) }

        let (flushed, produceTime, produceCPU, _) = measured { () -> rd_kafka_resp_err_t in
        value.withUnsafeBytes { valueBytes in
            for index in 0..<settings.messages {
                keys[index & 63].withUnsafeBytes { keyBytes in
                    while rd_kafka_produce(
                        topic, Int32(index % Int(settings.partitions)), RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: valueBytes.baseAddress), valueBytes.count,
                        keyBytes.baseAddress, keyBytes.count, UnsafeMutableRawPointer(bitPattern: UInt(index + 1))
                    ) != 0 {
                        // Only _QUEUE_FULL is expected: serve delivery reports to make room.
                        _ = rd_kafka_poll(producer, 1)
                    }
                }
                if index & 1023 == 0 { _ = rd_kafka_poll(producer, 0) }
            }
        }
        return rd_kafka_flush(producer, 120_000)
        }
        guard flushed == RD_KAFKA_RESP_ERR_NO_ERROR, deliveries.delivered == settings.messages, deliveries.failed == 0 else {
            throw ValidationError("raw produce: \(deliveries.delivered) delivered, \(deliveries.failed) failed")
        }

        // Consume.
        let consumerConf = try makeConf(
            [("bootstrap.servers", bootstrap), ("group.id", "bench-raw-\(settings.topic)")] + settings.sharedConsumerProperties
                + settings.extraConsumerProperties)
        rd_kafka_conf_set_log_cb(consumerConf) { _, level, _, _ in _ = level }
        let consumer = try makeClient(RD_KAFKA_CONSUMER, consumerConf)
        defer { rd_kafka_destroy(consumer) }
        rd_kafka_poll_set_consumer(consumer)
        let queue = rd_kafka_queue_get_consumer(consumer)!
        defer { rd_kafka_queue_destroy(queue) }

        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: settings.batchSize)
        defer { messages.deallocate() }
        let (received, consumeTime, consumeCPU, consumeThread) = try measured { () throws -> Int in
        let list = rd_kafka_topic_partition_list_new(settings.partitions)!
        for partition in 0..<settings.partitions {
            rd_kafka_topic_partition_list_add(list, settings.topic, partition).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let assigned = rd_kafka_assign(consumer, list)
        rd_kafka_topic_partition_list_destroy(list)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw ValidationError("raw assign failed") }

        var received = 0
        var checksum = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while received < settings.messages, ContinuousClock.now < deadline {
            var count = 0
            // The Swift layer's pattern: wait for one, then take what is queued without waiting.
            if let first = rd_kafka_consume_queue(queue, 100) {
                messages[0] = first
                count = 1
                if settings.rawBatchConsume {
                    count += max(0, rd_kafka_consume_batch_queue(queue, 0, messages + 1, settings.batchSize - 1))
                } else {
                    var next = count < settings.batchSize ? rd_kafka_consume_queue(queue, 0) : nil
                    while let message = next {
                        messages[count] = message
                        count += 1
                        next = count < settings.batchSize ? rd_kafka_consume_queue(queue, 0) : nil
                    }
                }
            }
            guard count > 0 else { continue }
            for index in 0..<count {
                let message = messages[index]!
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let payload = message.pointee.payload?.assumingMemoryBound(to: UInt8.self)
                    checksum &+= message.pointee.len &+ Int(payload?.pointee ?? 0)
                    received += 1
                }
                rd_kafka_message_destroy(message)
            }
        }
        if checksum == 42 { print("") }
        return received
        }
        guard received == settings.messages else { throw ValidationError("raw consume: \(received) of \(settings.messages)") }
        _ = rd_kafka_consumer_close(consumer)
        let n = Double(settings.messages)
        return Rates(
            produce: n / produceTime, consume: n / consumeTime, produceCPUMicros: produceCPU / n * 1e6,
            consumeCPUMicros: consumeCPU / n * 1e6, consumeThreadCPUMicros: consumeThread / n * 1e6)
    }

    static func makeConf(_ properties: [(String, String)]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties where rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw ValidationError("\(key)=\(value): \(String(cString: errorText))")
        }
        return conf
    }

    static func makeClient(_ kind: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let client = rd_kafka_new(kind, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw ValidationError(String(cString: errorText))
        }
        return client
    }
}
