import Foundation
import Kafka
import Ledger
import Logging
import Policy
import Synchronization

/// Reads the compacted MES work-order topic in full on every instance (no
/// consumer group: each instance needs every order) and keeps
/// `SharedWorkOrders` and the ledger's correlation table current.
///
/// At start it replays the topic from the beginning, so the in-memory table
/// is rebuilt from Kafka, the source of truth; the ledger mirrors it for
/// `trace` and operators.
public final class CorrelationReader: Sendable {
    public let topic: String
    private let consumer: Consumer
    private let workOrders: SharedWorkOrders
    private let ledger: Ledger
    private let logger: Logger
    private let partitionsAtEnd = Mutex<Set<Int32>>([])
    private let partitionCount: Int
    private let pollThread = Mutex<PollThreadBox?>(nil)

    public init(
        topic: String, partitions: Int, cluster: KafkaConfiguration, workOrders: SharedWorkOrders, ledger: Ledger, logger: Logger
    ) throws {
        var configuration = ConsumerConfiguration(client: cluster, groupID: "plantrouter-correlation-unused")
        configuration.reportPartitionEOF = true
        consumer = try Consumer(configuration: configuration, logger: logger)
        try consumer.assign((0..<Int32(partitions)).map {
            TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.beginning)
        })
        self.topic = topic
        self.partitionCount = partitions
        self.workOrders = workOrders
        self.ledger = ledger
        self.logger = logger
    }

    /// Starts reading on a dedicated thread.
    public func start() {
        let box = PollThreadBox(PollThread(name: "correlation-reader") { [self] in readOnce() })
        pollThread.withLock { $0 = box }
    }

    /// True once every partition has been read to its end at least once.
    public var isCaughtUp: Bool { partitionsAtEnd.withLock { $0.count } >= partitionCount }

    /// Waits (on a dedicated queue) until the initial load is complete or `timeout` passes.
    public func waitUntilCaughtUp(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isCaughtUp, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isCaughtUp
    }

    public func stop() {
        pollThread.withLock { $0 }?.thread.stop()
    }

    private func readOnce() {
        let batch: ConsumerBatch
        do {
            batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
        } catch {
            logger.error("reading \(topic) failed: \(error)")
            return
        }
        for error in batch.errors { logger.warning("reading \(topic): \(error)") }
        if !batch.partitionsAtEnd.isEmpty {
            partitionsAtEnd.withLock { $0.formUnion(batch.partitionsAtEnd.map(\.partition)) }
        }
        guard !batch.records.isEmpty else { return }
        var changes: [WorkOrderChange] = []
        workOrders.update { table in
            for record in batch.records {
                let raw = RawEvent(record)
                do {
                    let order = try WorkOrder.decode(raw)
                    if let order { table.upsert(order) } else { try table.apply(raw) }
                    changes.append(Self.change(for: raw, order: order))
                } catch {
                    logger.warning("skipping work order at \(topic)[\(record.partition)]@\(record.offset): \(error)")
                }
            }
        }
        do {
            try ledger.apply(changes, from: topic)
        } catch {
            logger.error("mirroring work orders to the ledger failed: \(error)")
        }
    }

    private static func change(for raw: RawEvent, order: WorkOrder?) -> WorkOrderChange {
        guard let order else {
            return .remove(id: String(decoding: raw.key ?? [], as: UTF8.self), partition: raw.partition, offset: raw.offset)
        }
        var writer = JSONWriter()
        writer.write(order.payload)
        let payload = String(decoding: writer.bytes, as: UTF8.self)
        return .upsert(WorkOrderRow(
            id: order.id, asset: order.asset, line: order.line, status: order.status, payload: payload,
            sourcePartition: raw.partition, sourceOffset: raw.offset))
    }
}

/// Lets a `Mutex` hold the thread, which is created after `self` is.
final class PollThreadBox: Sendable {
    let thread: PollThread
    init(_ thread: PollThread) { self.thread = thread }
}
