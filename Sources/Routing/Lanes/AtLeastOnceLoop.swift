import Foundation
import Kafka
import Ledger
import Policy

/// High-volume lanes: idempotent producer, outputs acknowledged
/// asynchronously, offsets committed in batches once every output of a record
/// is acknowledged (at least once; the deterministic idempotency key makes a
/// redelivered output recognisable downstream).
///
/// Memory: once librdkafka holds an output (it copies key and value and takes the header
/// list), the lane keeps only its bookkeeping: the source record's position, the audit key
/// when the output is audited, what a dead letter needs of the decision (`DecisionContext`).
/// A failed delivery report hands the record back for a retry; a dead letter for an output that
/// failed every attempt reads its source record again from Kafka (`SourceReader`). What librdkafka
/// holds is bounded by `maxInFlight` outputs and `maxInFlightBytes`.
///
/// The lane thread serves its producer's delivery reports itself, between batches
/// (`Producer.DeliveryReports.producingThread`): librdkafka frees each delivered record and its
/// headers while serving the report, and freed on the thread that allocated them they go back to
/// its own malloc arena. A separate poll thread freeing them contended for that arena's lock with
/// the lane, once per header of every output (10% of the process's CPU on a 300k drain). An idle
/// lane serves them after its poll for records times out (at most 50 ms), so at low rates the
/// latency metric's end stamp can lag the acknowledgement by that much. A 10 ms poll while outputs
/// were outstanding bounded that lag, but made the telemetry lane's p99 at 5,000 events/s worse in
/// interleaved runs (Benchmarks/NOTES.md).
final class AtLeastOnceLoop: LaneLoop {
    /// What the lane keeps of an output while librdkafka holds it, by delivery token: only what
    /// its delivery report needs, so the table it lives in moves and frees 80 bytes per output
    /// (216 with a slot for the record, the decision's strings and the failure details inline).
    private struct InFlight {
        /// Kept only for outputs that are audited (the ledger needs the key); empty otherwise.
        var idempotencyKeyBytes: [UInt8]
        var source: SourcePosition
        /// What a dead letter written for this output names; shared by the outputs of similar decisions.
        var decision: DecisionContext?
        /// What the output weighs in librdkafka's queue (key, value, headers): counted against `maxInFlightBytes`.
        var bytes: Int
        /// Set once a delivery failed.
        var failures: FailureHistory?
        var isDeadLetter: Bool
        /// The event's entry for the audit topic rather than one of its outputs: like a dead
        /// letter it is retried until it lands, and its report finishes the event.
        var isAuditEntry = false

        /// `audited`: whether the output goes to the trail with its position (see
        /// `PreparedEvent.Output.isAudited`); only then is its idempotency key kept.
        init(_ output: PreparedEvent.Output, source: SourcePosition, decision: DecisionContext?, audited: Bool) {
            isDeadLetter = output.isDeadLetter
            idempotencyKeyBytes = audited ? output.idempotencyKeyBytes : []
            self.source = source
            self.decision = decision
            bytes = output.record.byteCount
        }

        var isAudited: Bool { !idempotencyKeyBytes.isEmpty }
        var idempotencyKey: String { String(decoding: idempotencyKeyBytes, as: UTF8.self) }
    }

    /// An output's failed deliveries. A class, so an output that never fails carries one nil
    /// reference for it.
    private final class FailureHistory {
        var attempts: Int
        let firstFailedAt: Date
        /// Set when every delivery attempt failed and the dead letter still has to be written
        /// (its source record could not be read again yet): the error for `dlq-error`.
        var deadLetterError: String?

        init(attempts: Int, firstFailedAt: Date) {
            self.attempts = attempts
            self.firstFailedAt = firstFailedAt
        }
    }

    /// An output on its way to librdkafka: its record and its bookkeeping.
    private struct Outgoing {
        var record: ProducerRecord
        var item: InFlight
    }

    /// An event's audit entry waiting for its outputs' delivery reports: it is produced, with
    /// their positions, once the last arrives, and the event's offset is committable only once
    /// the entry itself is acknowledged. So a committed offset always has its idempotency keys
    /// on the audit topic, where every instance's replays look them up.
    private struct PendingAudit {
        var record: AuditRecord
        var remaining: Int
        var produced: [ProducedOutput] = []
    }

    /// An event by its source position.
    private struct EventPosition: Hashable {
        var topicPartition: TopicPartition
        var offset: Int64
    }

    private let context: LaneContext
    private let producer: Producer
    private let inbox: DeliveryInbox
    private var inFlight: [UInt64: InFlight] = [:]
    /// Bytes of every output in `inFlight`, `waitingForRoom` and `retries`.
    private var outstandingBytes = 0
    private let sourceReader: SourceReader
    private var nextToken: UInt64 = 1
    private var offsets = OffsetTracker()
    private var pendingAudits: [EventPosition: PendingAudit] = [:]
    /// Outputs the local producer queue had no room for, in order.
    private var waitingForRoom: [(token: UInt64, output: Outgoing)] = []
    /// Outputs to send again once due; without a record, a dead letter whose source record
    /// could not be read again yet.
    private var retries: [(due: ContinuousClock.Instant, item: InFlight, record: ProducerRecord?)] = []
    /// The last decision's context, which the next decision's outputs share when it is the same.
    private var lastDecision: DecisionContext?
    private var consecutiveFailures = 0
    private var circuitOpenUntil: ContinuousClock.Instant?
    private var paused = false
    private var lastCommit = ContinuousClock.now
    private var tally = Tally()
    /// The delivery reports being handled; its buffer and the inbox's alternate (see `DeliveryInbox.drain(into:)`).
    private var arrivals: [DeliveryInbox.Arrival] = []

    init(context: LaneContext, producer: Producer, inbox: DeliveryInbox, sourceReader: SourceReader) {
        self.context = context
        self.producer = producer
        self.inbox = inbox
        self.sourceReader = sourceReader
    }

    private var settings: LaneSettings { context.settings }

    func warmUp() { context.warmUp(producer) }

    func step() {
        handleDeliveries()
        sendDueRetries()
        sendWaiting()
        applyBackpressure()
        context.followPolicyReloads()
        let records = context.poll(timeout: paused ? .milliseconds(20) : .milliseconds(50))
        var audits: [AuditRecord] = []
        for record in records {
            let prepared = context.preparer.prepare(record)
            tally.classified(prepared.decision.outcome)
            let source = SourcePosition(record)
            let publishesAudit = context.auditTopic != nil && prepared.audit != nil
            offsets.consumed(record.topicPartition, offset: record.offset, outputs: prepared.outputs.count + (publishesAudit ? 1 : 0))
            if let audit = prepared.audit {
                if context.writesLocalTrail { audits.append(audit) }
                if publishesAudit {
                    if prepared.outputs.isEmpty {
                        publish(AuditEntry(record: audit, produced: []), source: source)
                    } else {
                        pendingAudits[EventPosition(topicPartition: source.topicPartition, offset: source.offset)] =
                            PendingAudit(record: audit, remaining: prepared.outputs.count)
                    }
                }
            }
            guard !prepared.outputs.isEmpty else { continue }
            let decision = DecisionContext.sharing(lastDecision, for: prepared.decision)
            lastDecision = decision
            for output in prepared.outputs {
                send(Outgoing(
                    record: output.record,
                    item: InFlight(output, source: source, decision: decision, audited: output.isAudited(decision: prepared.decision))))
            }
        }
        context.recordLocally(audits)
        tally.flush(into: context.statistics)
        if ContinuousClock.now - lastCommit >= .milliseconds(settings.commitIntervalMs) {
            commitFinished(synchronously: false)
            context.refreshLag(paused: paused)
        }
    }

    func rebalanced(_ event: RebalanceEvent) {
        switch event {
        case .assigned(let partitions):
            context.logger.info("lane \(context.lane.name) assigned \(partitions.count) partitions")
            if paused { try? context.consumer.pause(partitions) }
        case .revoked(let partitions, let lost):
            context.logger.info("lane \(context.lane.name) loses \(partitions.count) partitions\(lost ? " (lost)" : "")")
            if !lost {
                drain(timeout: .milliseconds(settings.drainTimeoutMs))
                let finished = offsets.committable(for: partitions)
                do {
                    try context.consumer.commit(finished)
                } catch {
                    context.logger.warning("commit on revoke failed: \(error)")
                }
            }
            offsets.forget(partitions)
            let revoked = Set(partitions)
            pendingAudits = pendingAudits.filter { !revoked.contains($0.key.topicPartition) }
        }
    }

    func shutdown() {
        drain(timeout: context.stop.remaining(atMost: .milliseconds(settings.drainTimeoutMs)))
        commitFinished(synchronously: true)
        context.closeConsumer()
        sourceReader.close()
        do {
            try producer.close(timeout: max(context.stop.remaining(atMost: .seconds(5)), .milliseconds(100)))
        } catch {
            context.logger.warning("closing producer: \(error)")
        }
        let unfinished = inFlight.count + waitingForRoom.count + retries.count
        if unfinished > 0 {
            context.logger.warning("lane \(context.lane.name) stopped with \(unfinished) outputs unacknowledged; their records were not committed and will be read again")
        }
    }

    // MARK: - Producing

    /// Sends the event's audit entry; its acknowledgement finishes the event.
    private func publish(_ entry: AuditEntry, source: SourcePosition) {
        guard let auditTopic = context.auditTopic else { return }
        let output = PreparedEvent.Output(record: auditTopic.record(entry), idempotencyKeyBytes: [], isDeadLetter: false)
        var item = InFlight(output, source: source, decision: nil, audited: false)
        item.isAuditEntry = true
        send(Outgoing(record: output.record, item: item))
    }

    /// One output of an event with a pending audit entry was acknowledged at `report`'s position.
    private func auditedOutputDelivered(_ item: InFlight, report: DeliveryReport) {
        let position = EventPosition(topicPartition: item.source.topicPartition, offset: item.source.offset)
        guard var pending = pendingAudits[position] else { return }
        pending.remaining -= 1
        if item.isAudited {
            let key = item.idempotencyKey
            pending.produced.append(ProducedOutput(idempotencyKey: key, topic: report.topic, partition: report.partition, offset: report.offset))
            if let ordinal = pending.record.outputs.firstIndex(where: { $0.idempotencyKey == key && $0.topic == report.topic && $0.offset == nil }) {
                pending.record.outputs[ordinal].partition = report.partition
                pending.record.outputs[ordinal].offset = report.offset
            }
        }
        guard pending.remaining <= 0 else {
            pendingAudits[position] = pending
            return
        }
        pendingAudits[position] = nil
        publish(AuditEntry(record: pending.record, produced: pending.produced), source: item.source)
    }

    /// A new output (or one to try again): counted, then produced, or queued behind those waiting for room.
    /// Outputs are consumed, not copied, on their way into `inFlight`: a copy would retain and then
    /// release every reference the record and its bookkeeping hold, once per output.
    private func send(_ output: consuming Outgoing) {
        let token = nextToken
        nextToken += 1
        outstandingBytes += output.item.bytes
        guard waitingForRoom.isEmpty else {
            waitingForRoom.append((token, output))
            return
        }
        if let rejected = produce(token: token, output) { waitingForRoom.append((token, rejected)) }
    }

    /// Hands the record to librdkafka and keeps its bookkeeping only; returns the output when the local queue is full.
    private func produce(token: UInt64, _ output: consuming Outgoing) -> Outgoing? {
        do {
            try producer.produce(output.record, token: token)
            inFlight[token] = output.item
        } catch where error.code == .queueFull {
            return output
        } catch {
            outstandingBytes -= output.item.bytes
            failed(output.item, error: error, returned: output.record)
        }
        return nil
    }

    private func sendWaiting() {
        guard !waitingForRoom.isEmpty else { return }
        let waiting = waitingForRoom
        waitingForRoom.removeAll(keepingCapacity: true)
        for (index, entry) in waiting.enumerated() {
            if let rejected = produce(token: entry.token, entry.output) {
                waitingForRoom.append((entry.token, rejected))
                waitingForRoom += waiting[(index + 1)...]
                return
            }
        }
    }

    private func handleDeliveries() {
        producer.serveDeliveryReports()
        var produced: [ProducedOutput] = []
        inbox.drain(into: &arrivals)
        for arrival in arrivals {
            let report = arrival.report
            guard let item = inFlight.removeValue(forKey: report.token) else { continue }
            outstandingBytes -= item.bytes
            if let error = report.error {
                failed(item, error: error, returned: report.failedRecord)
                continue
            }
            if consecutiveFailures >= settings.circuitFailureThreshold { context.statistics.producerHealth(true) }
            consecutiveFailures = 0
            if item.isAuditEntry {
                offsets.outputFinished(item.source.topicPartition, offset: item.source.offset)
                continue
            }
            tally.produced(
                topic: report.topic, latencyMicros: LaneContext.latencyMicros(from: item.source.timestampMs, to: arrival.receivedAtMicros))
            if item.isDeadLetter { tally.deadLettered(reason: item.decision?.deadLetterReason ?? .target) }
            if item.isAudited, context.writesLocalTrail {
                produced.append(ProducedOutput(
                    idempotencyKey: item.idempotencyKey, topic: report.topic, partition: report.partition, offset: report.offset))
            }
            offsets.outputFinished(item.source.topicPartition, offset: item.source.offset)
            if !pendingAudits.isEmpty { auditedOutputDelivered(item, report: report) }
        }
        arrivals.removeAll(keepingCapacity: true)
        context.recordLocally([], produced: produced)
        tally.flush(into: context.statistics)
    }

    /// A failed delivery of `returned` (the record, as the delivery report handed it back): retry
    /// with backoff, then dead-letter the source record with reason `target`. Dead letters
    /// themselves are retried until they land: nothing is dropped.
    private func failed(_ item: InFlight, error: KafkaError, returned: ProducerRecord?) {
        context.statistics.producerError("\(error)")
        consecutiveFailures += 1
        if consecutiveFailures >= settings.circuitFailureThreshold, circuitOpenUntil == nil {
            circuitOpenUntil = .now + .milliseconds(settings.circuitOpenMs)
            context.statistics.producerHealth(false)
            context.logger.warning("lane \(context.lane.name) circuit open after \(consecutiveFailures) failed deliveries: \(error)")
        }
        var item = item
        let failures = item.failures ?? FailureHistory(attempts: 1, firstFailedAt: Date())
        item.failures = failures
        let topic = returned?.topic ?? "its target"
        // A report always returns the failed record; without it there is nothing to try again.
        if let returned, failures.attempts < settings.maxAttempts || item.isDeadLetter || item.isAuditEntry {
            let delay = settings.backoff(attempt: failures.attempts)
            failures.attempts += 1
            context.statistics.retried()
            outstandingBytes += item.bytes
            retries.append((.now + delay, item, returned))
            return
        }
        context.logger.warning("dead-lettering \(item.source.description): delivery to \(topic) failed \(failures.attempts) times: \(error)")
        failures.deadLetterError = "delivery to \(topic) failed: \(error)"
        deadLetter(item)
    }

    /// Writes the dead letter for `item`, whose delivery failed every attempt, with its source
    /// record read again from Kafka; when that cannot be read now, tries again after a backoff.
    private func deadLetter(_ item: InFlight) {
        guard let failures = item.failures, let error = failures.deadLetterError else { return }
        let source: ConsumerRecord
        switch sourceReader.read(item.source, timeout: max(context.stop.remaining(atMost: .seconds(5)), .milliseconds(100))) {
        case .found(let record):
            source = record
        case .gone:
            // Retention removed it while its outputs were retried: the letter carries the context only.
            context.logger.warning("\(item.source.description) is no longer in its partition; its dead letter carries no original bytes")
            source = ConsumerRecord(
                topic: item.source.topicPartition.topic, partition: item.source.topicPartition.partition, offset: item.source.offset,
                timestampMs: item.source.timestampMs, key: nil, value: nil, headers: [])
        case .unavailable:
            var later = item
            later.bytes = 0
            retries.append((.now + settings.backoff(attempt: settings.maxAttempts), later, nil))
            return
        }
        let letter = context.preparer.deadLetterOutput(
            for: source, reason: .target, error: error,
            decision: item.decision, attempts: failures.attempts, firstFailedAt: failures.firstFailedAt)
        var letterItem = InFlight(letter, source: item.source, decision: nil, audited: true)
        letterItem.failures = FailureHistory(attempts: 1, firstFailedAt: failures.firstFailedAt)
        send(Outgoing(record: letter.record, item: letterItem))
    }

    private func sendDueRetries() {
        guard !retries.isEmpty else { return }
        let now = ContinuousClock.now
        let due = retries.filter { $0.due <= now }
        guard !due.isEmpty else { return }
        retries.removeAll { $0.due <= now }
        for retry in due {
            outstandingBytes -= retry.item.bytes
            if let record = retry.record {
                send(Outgoing(record: record, item: retry.item))
            } else {
                deadLetter(retry.item)
            }
        }
    }

    // MARK: - Backpressure and commits

    private func applyBackpressure() {
        if let until = circuitOpenUntil, ContinuousClock.now >= until {
            circuitOpenUntil = nil
            consecutiveFailures = 0
            context.statistics.producerHealth(true)
        }
        let outstanding = inFlight.count + waitingForRoom.count + retries.count
        let ledgerHealthy = context.trailWritable
        let shouldPause = circuitOpenUntil != nil || outstanding >= settings.maxInFlight || outstandingBytes >= settings.maxInFlightBytes
            || !waitingForRoom.isEmpty || !ledgerHealthy
        let canResume = circuitOpenUntil == nil && outstanding < settings.maxInFlight / 2 && outstandingBytes < settings.maxInFlightBytes / 2
            && waitingForRoom.isEmpty && ledgerHealthy
        if shouldPause, !paused {
            setPaused(true)
        } else if paused, canResume {
            setPaused(false)
        }
    }

    private func setPaused(_ pause: Bool) {
        if context.pausePartitions(pause) { paused = pause }
    }

    private func commitFinished(synchronously: Bool) {
        lastCommit = .now
        let finished = offsets.committable
        guard !finished.isEmpty else { return }
        do {
            try context.consumer.commit(finished, synchronously: synchronously)
        } catch {
            context.logger.warning("lane \(context.lane.name) commit failed: \(error)")
        }
    }

    /// Waits for outstanding outputs, bounded by `timeout`.
    private func drain(timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while inFlight.count + waitingForRoom.count + retries.count > 0, ContinuousClock.now < deadline {
            handleDeliveries()
            sendDueRetries()
            sendWaiting()
            Thread.sleep(forTimeInterval: 0.005)
        }
        handleDeliveries()
    }
}

extension ConsumerRecord {
    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

extension ProducerRecord {
    /// Key, value and header bytes: about what librdkafka's queue holds for the record.
    var byteCount: Int {
        var total = (key?.count ?? 0) + (value?.count ?? 0)
        for header in headers { total += header.name.utf8.count + (header.value?.count ?? 0) }
        return total
    }
}
