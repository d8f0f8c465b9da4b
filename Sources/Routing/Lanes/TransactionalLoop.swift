import Foundation
import Kafka
import Ledger
import Policy

/// Financially relevant lanes: each batch is one Kafka transaction holding its
/// outputs, its dead letters and the consumed offsets, so `read_committed`
/// readers see every event's outputs exactly once, even across crashes.
///
/// A failed transaction is aborted and the same prepared records are tried
/// again with backoff (the policy is not asked twice: its windows already
/// counted them). After `maxAttempts`, the batch is retried one record per
/// transaction, and a record that still fails is dead-lettered with reason
/// `target` in a transaction of its own, which is retried until it lands.
final class TransactionalLoop: LaneLoop {
    private let context: LaneContext
    private var producer: TransactionalProducer
    private let makeProducer: () throws -> TransactionalProducer
    private let inbox: DeliveryInbox
    private var lastLagRefresh = ContinuousClock.now
    private var paused = false
    /// Counts since the last flush; its buffers are kept between flushes (see `Tally.reset`).
    private var tally = Tally()
    /// Set when another producer with this lane's transactional id fenced this one: this
    /// instance is a zombie for the lane, so it stops rather than fencing back.
    private var fencedBy: KafkaError?

    init(context: LaneContext, inbox: DeliveryInbox, makeProducer: @escaping () throws -> TransactionalProducer) throws {
        self.context = context
        self.inbox = inbox
        self.makeProducer = makeProducer
        producer = try makeProducer()
        try producer.initTransactions()
    }

    private var settings: LaneSettings { context.settings }

    func warmUp() { context.warmUp(producer.producer) }

    func step() {
        guard fencedBy == nil else {
            Thread.sleep(forTimeInterval: 0.1)
            return
        }
        context.followPolicyReloads()
        // Without an audit topic, consume nothing new while the ledger (the only trail) refuses writes.
        let ledgerHealthy = context.trailWritable
        if ledgerHealthy == paused { setPaused(!ledgerHealthy) }
        let records = context.poll(timeout: .milliseconds(paused ? 20 : 50))
        if ContinuousClock.now - lastLagRefresh >= .seconds(1) {
            lastLagRefresh = .now
            context.refreshLag(paused: paused)
        }
        guard !records.isEmpty else { return }
        let prepared = records.map { record in
            let event = context.preparer.prepare(record)
            tally.classified(event.decision.outcome)
            return event
        }
        tally.flush(into: context.statistics)
        commit(prepared)
    }

    func rebalanced(_ event: RebalanceEvent) {
        // Every batch is committed before the next poll, and rebalances happen
        // inside poll: there is never an open transaction to finish here.
        switch event {
        case .assigned(let partitions):
            context.logger.info("lane \(context.lane.name) assigned \(partitions.count) partitions")
            if paused { try? context.consumer.pause(partitions) }
        case .revoked(let partitions, _): context.logger.info("lane \(context.lane.name) loses \(partitions.count) partitions")
        }
    }

    func shutdown() {
        if fencedBy == nil { context.closeConsumer() }
        do {
            try producer.close(timeout: max(context.stop.remaining(atMost: .seconds(5)), .milliseconds(100)))
        } catch {
            context.logger.warning("closing producer: \(error)")
        }
    }

    private func setPaused(_ pause: Bool) {
        if context.pausePartitions(pause) { paused = pause }
    }

    // MARK: - Transactions

    private func commit(_ batch: [PreparedEvent]) {
        if attemptTransactions(batch, attempts: settings.maxAttempts) || fencedBy != nil { return }
        if context.stop.deadlinePassed { return abandon(batch) }
        if batch.count > 1 {
            context.logger.warning("lane \(context.lane.name): batch of \(batch.count) failed \(settings.maxAttempts) times; retrying one record per transaction")
            for (index, event) in batch.enumerated() {
                guard !context.stop.deadlinePassed else { return abandon(Array(batch[index...])) }
                commit([event])
            }
            return
        }
        let event = batch[0]
        let letter = context.preparer.deadLetterOutput(
            for: event.source, reason: .target,
            error: "transaction failed \(settings.maxAttempts) times: \(context.statistics.snapshot.lastError ?? "unknown")",
            decision: DecisionContext(event.decision), attempts: settings.maxAttempts)
        var deadLettered = event
        deadLettered.outputs = [letter]
        deadLettered.audit?.outcome = .deadLetter
        deadLettered.audit?.outputs = [AuditOutput(topic: letter.record.topic, idempotencyKey: letter.idempotencyKey)]
        // A dead letter must land: keep trying, the lane waits (its order matters more than its pace),
        // until a stop's drain time runs out; then the record stays uncommitted and is read again.
        if !attemptTransactions([deadLettered], attempts: .max), fencedBy == nil { abandon([event]) }
    }

    /// Stopping with `batch` not committed: its offsets were not committed either, so whoever
    /// owns the partitions next reads these records again. Nothing is lost.
    private func abandon(_ batch: [PreparedEvent]) {
        context.logger.warning("lane \(context.lane.name) stops with \(batch.count) records uncommitted (drain timeout reached); they will be read again")
    }

    /// Tries one transaction for `batch` up to `attempts` times.
    private func attemptTransactions(_ batch: [PreparedEvent], attempts: Int) -> Bool {
        var attempt = 1
        while attempt <= attempts, fencedBy == nil, !context.stop.deadlinePassed {
            do {
                try runTransaction(batch)
                return true
            } catch {
                context.statistics.producerError("\(error)")
                context.statistics.transaction(committed: false)
                context.logger.warning("lane \(context.lane.name) transaction attempt \(attempt) failed: \(error)")
                recover(from: error)
                context.stop.sleep(for: settings.backoff(attempt: attempt))
                attempt &+= 1
            }
        }
        return false
    }

    /// What a delivery report's token stands for: an output of one of the batch's events.
    private struct Sent {
        var output: PreparedEvent.Output
        var event: Int
        var ordinal: Int
    }

    private func runTransaction(_ batch: [PreparedEvent]) throws {
        _ = inbox.drain()
        try producer.beginTransaction()
        var tokens: [UInt64: Sent] = [:]
        var token: UInt64 = 1
        for (index, event) in batch.enumerated() {
            for (ordinal, output) in event.outputs.enumerated() {
                try resumable { slice throws(KafkaError) in
                    try producer.producer.produceWaitingForRoom(output.record, token: token, giveUpAfter: slice)
                }
                tokens[token] = Sent(output: output, event: index, ordinal: ordinal)
                token += 1
            }
        }
        var arrivals: [DeliveryInbox.Arrival] = []
        if let auditTopic = context.auditTopic {
            // The audit entries carry the outputs' positions, so their reports are awaited inside
            // the transaction (the commit waits for them anyway). Token 0: not an output.
            try resumable { slice throws(KafkaError) in try producer.producer.flush(timeout: slice) }
            arrivals = inbox.drain()
            for entry in Self.auditEntries(batch, reports: arrivals.map(\.report), tokens: tokens) {
                let record = auditTopic.record(entry)
                try resumable { slice throws(KafkaError) in
                    try producer.producer.produceWaitingForRoom(record, token: 0, giveUpAfter: slice)
                }
            }
        }
        var next: [TopicPartition: Int64] = [:]
        for event in batch { next[event.source.topicPartition] = max(next[event.source.topicPartition] ?? 0, event.source.offset + 1) }
        let offsets = next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
        let group = context.consumer.groupMetadata()
        try resumable { slice throws(KafkaError) in try producer.sendOffsets(offsets, group: group, timeout: slice) }
        try resumable { slice throws(KafkaError) in try producer.commitTransaction(timeout: slice) }
        context.statistics.transaction(committed: true)
        recordCommitted(batch, arrivals: arrivals + inbox.drain(), tokens: tokens)
    }

    /// Per event with a decision to record or audited outputs, its audit entry: the decision with
    /// its outputs' positions, and the audited outputs the cluster confirmed.
    private static func auditEntries(_ batch: [PreparedEvent], reports: [DeliveryReport], tokens: [UInt64: Sent]) -> [AuditEntry] {
        var records = batch.map(\.audit)
        var produced = Array(repeating: [ProducedOutput](), count: batch.count)
        for report in reports where report.error == nil {
            guard let sent = tokens[report.token] else { continue }
            if var record = records[sent.event], record.outputs.indices.contains(sent.ordinal) {
                record.outputs[sent.ordinal].partition = report.partition
                record.outputs[sent.ordinal].offset = report.offset
                records[sent.event] = record
            }
            if sent.output.isAudited(decision: batch[sent.event].decision) {
                produced[sent.event].append(ProducedOutput(
                    idempotencyKey: sent.output.idempotencyKey, topic: report.topic, partition: report.partition, offset: report.offset))
            }
        }
        return zip(records, produced).compactMap { record, produced in
            record == nil && produced.isEmpty ? nil : AuditEntry(record: record, produced: produced)
        }
    }

    /// Runs a blocking transaction call in slices of at most a second for up to librdkafka's
    /// usual 30 s: a timed-out commit, abort, offsets or init call is retriable and resumes
    /// where it was, so the lane sees a stop request within a second of it and gives up once
    /// the stop's drain time is used up, instead of blocking for the whole 30 s.
    private func resumable(_ call: (Duration) throws(KafkaError) -> Void) throws(KafkaError) {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try call(max(context.stop.remaining(atMost: .seconds(1)), .milliseconds(50)))
            } catch where Self.isTimeout(error) && ContinuousClock.now < deadline && !context.stop.deadlinePassed {
                continue
            }
        }
    }

    private static func isTimeout(_ error: KafkaError) -> Bool {
        error.code == .timedOut || error.code == .queueFull
    }

    /// After a commit: statistics, audit records, and the idempotency ledger.
    /// Latency ends at the commit: that is when `read_committed` readers see the outputs.
    private func recordCommitted(_ batch: [PreparedEvent], arrivals: [DeliveryInbox.Arrival], tokens: [UInt64: Sent]) {
        let committedAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        var produced: [ProducedOutput] = []
        defer { tally.flush(into: context.statistics) }
        for report in arrivals.map(\.report) {
            guard let sent = tokens[report.token], report.error == nil else { continue }
            let output = sent.output
            let event = batch[sent.event]
            tally.produced(
                topic: report.topic, latencyMicros: LaneContext.latencyMicros(from: event.source.timestampMs, to: committedAt))
            if output.isDeadLetter { tally.deadLettered(reason: event.decision.deadLetterReason ?? .target) }
            if context.writesLocalTrail, output.isAudited(decision: event.decision) {
                produced.append(ProducedOutput(idempotencyKey: output.idempotencyKey, topic: report.topic, partition: report.partition, offset: report.offset))
            }
        }
        if context.writesLocalTrail { context.recordLocally(batch.compactMap(\.audit), produced: produced) }
    }

    /// Aborts after an abortable error. A fenced producer means another
    /// instance now owns this lane's transactional id: the lane stops and
    /// leaves its group (fencing back would make the two fight). Other fatal
    /// errors get a new producer.
    private func recover(from error: any Error) {
        let kafkaError = (error as? KafkaError) ?? producer.producer.fatalError
        if let kafkaError, Self.fencingCodes.contains(kafkaError.code) {
            fencedBy = kafkaError
            context.statistics.producerHealth(false)
            context.statistics.failed("fenced: \(kafkaError)")
            context.logger.critical("lane \(context.lane.name) stopped: its transactional producer was fenced by another instance with the same instanceID (\(kafkaError)); give every instance its own instanceID, then restart this one")
            context.closeConsumer()
            return
        }
        if kafkaError?.isFatal == true || producer.producer.fatalError != nil {
            context.logger.error("lane \(context.lane.name) transactional producer failed fatally; creating a new one")
            context.statistics.producerHealth(false)
            do {
                producer = try makeProducer()
                try resumable { slice throws(KafkaError) in try producer.initTransactions(timeout: slice) }
                context.statistics.producerHealth(true)
            } catch {
                context.logger.error("lane \(context.lane.name) could not create a transactional producer: \(error)")
            }
            return
        }
        do {
            try resumable { slice throws(KafkaError) in try producer.abortTransaction(timeout: slice) }
        } catch {
            context.logger.warning("lane \(context.lane.name) abort failed: \(error)")
        }
    }

    private static let fencingCodes: Set<KafkaErrorCode> = [.fenced, .producerFenced, .invalidProducerEpoch]
}
