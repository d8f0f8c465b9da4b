import Foundation
import Kafka
import Ledger
import Policy

/// High-volume lanes: idempotent producer, outputs acknowledged
/// asynchronously, offsets committed in batches once every output of a record
/// is acknowledged (at least once; the deterministic idempotency key makes a
/// redelivered output recognisable downstream).
final class AtLeastOnceLoop: LaneLoop {
    private struct InFlight {
        var output: PreparedEvent.Output
        var source: ConsumerRecord
        var decision: Decision?
        var attempts: Int
        var firstFailedAt: Date?
    }

    private let context: LaneContext
    private let producer: Producer
    private let inbox: DeliveryInbox
    private var inFlight: [UInt64: InFlight] = [:]
    private var nextToken: UInt64 = 1
    private var offsets = OffsetTracker()
    /// Outputs the local producer queue had no room for, in order.
    private var waitingForRoom: [(token: UInt64, item: InFlight)] = []
    private var retries: [(due: ContinuousClock.Instant, item: InFlight)] = []
    private var consecutiveFailures = 0
    private var circuitOpenUntil: ContinuousClock.Instant?
    private var paused = false
    private var lastCommit = ContinuousClock.now
    private var tally = Tally()

    init(context: LaneContext, producer: Producer, inbox: DeliveryInbox) {
        self.context = context
        self.producer = producer
        self.inbox = inbox
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
            if let audit = prepared.audit { audits.append(audit) }
            offsets.consumed(record.topicPartition, offset: record.offset, outputs: prepared.outputs.count)
            // In-flight outputs keep the decision for a possible dead letter, not the parsed event.
            var decision = prepared.decision
            decision.event = nil
            for output in prepared.outputs {
                send(InFlight(output: output, source: record, decision: decision, attempts: 1))
            }
        }
        context.audit.record(audits)
        flushTally()
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
        }
    }

    func shutdown() {
        drain(timeout: context.stop.remaining(atMost: .milliseconds(settings.drainTimeoutMs)))
        commitFinished(synchronously: true)
        context.closeConsumer()
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

    private func send(_ item: InFlight) {
        let token = nextToken
        nextToken += 1
        produce(token: token, item)
    }

    private func produce(token: UInt64, _ item: InFlight) {
        guard waitingForRoom.isEmpty else {
            waitingForRoom.append((token, item))
            return
        }
        do {
            try producer.produce(item.output.record, token: token)
            inFlight[token] = item
        } catch where error.code == .queueFull {
            waitingForRoom.append((token, item))
        } catch {
            failed(item, error: error)
        }
    }

    private func sendWaiting() {
        guard !waitingForRoom.isEmpty else { return }
        let waiting = waitingForRoom
        waitingForRoom.removeAll(keepingCapacity: true)
        for (index, entry) in waiting.enumerated() {
            do {
                try producer.produce(entry.item.output.record, token: entry.token)
                inFlight[entry.token] = entry.item
            } catch where error.code == .queueFull {
                waitingForRoom = Array(waiting[index...])
                return
            } catch {
                failed(entry.item, error: error)
            }
        }
    }

    private func handleDeliveries() {
        var produced: [ProducedOutput] = []
        for arrival in inbox.drain() {
            let report = arrival.report
            guard let item = inFlight.removeValue(forKey: report.token) else { continue }
            if let error = report.error {
                failed(item, error: error)
                continue
            }
            if consecutiveFailures >= settings.circuitFailureThreshold { context.statistics.producerHealth(true) }
            consecutiveFailures = 0
            tally.produced(
                topic: report.topic, latencyMicros: LaneContext.latencyMicros(from: item.source.timestampMs, to: arrival.receivedAtMicros))
            if item.output.isDeadLetter { tally.deadLettered(reason: item.decision?.deadLetterReason ?? .target) }
            if item.output.isAudited(decision: item.decision) {
                produced.append(ProducedOutput(
                    idempotencyKey: item.output.idempotencyKey, topic: report.topic, partition: report.partition, offset: report.offset))
            }
            offsets.outputFinished(item.source.topicPartition, offset: item.source.offset)
        }
        context.audit.produced(produced)
        flushTally()
    }

    private func flushTally() {
        context.statistics.add(tally)
        tally = Tally()
    }

    /// A failed delivery: retry with backoff, then dead-letter the source
    /// record with reason `target`. Dead letters themselves are retried until
    /// they land: nothing is dropped.
    private func failed(_ item: InFlight, error: KafkaError) {
        context.statistics.producerError("\(error)")
        consecutiveFailures += 1
        if consecutiveFailures >= settings.circuitFailureThreshold, circuitOpenUntil == nil {
            circuitOpenUntil = .now + .milliseconds(settings.circuitOpenMs)
            context.statistics.producerHealth(false)
            context.logger.warning("lane \(context.lane.name) circuit open after \(consecutiveFailures) failed deliveries: \(error)")
        }
        var item = item
        item.firstFailedAt = item.firstFailedAt ?? Date()
        if item.attempts < settings.maxAttempts || item.output.isDeadLetter {
            let delay = settings.backoff(attempt: item.attempts)
            item.attempts += 1
            context.statistics.retried()
            retries.append((.now + delay, item))
            return
        }
        context.logger.warning("dead-lettering \(item.source.topic)[\(item.source.partition)]@\(item.source.offset): delivery to \(item.output.record.topic) failed \(item.attempts) times: \(error)")
        let letter = context.preparer.deadLetterOutput(
            for: item.source, reason: .target, error: "delivery to \(item.output.record.topic) failed: \(error)",
            decision: item.decision, attempts: item.attempts, firstFailedAt: item.firstFailedAt ?? Date())
        send(InFlight(output: letter, source: item.source, decision: nil, attempts: 1, firstFailedAt: item.firstFailedAt))
    }

    private func sendDueRetries() {
        guard !retries.isEmpty else { return }
        let now = ContinuousClock.now
        let due = retries.filter { $0.due <= now }
        guard !due.isEmpty else { return }
        retries.removeAll { $0.due <= now }
        for retry in due { send(retry.item) }
    }

    // MARK: - Backpressure and commits

    private func applyBackpressure() {
        if let until = circuitOpenUntil, ContinuousClock.now >= until {
            circuitOpenUntil = nil
            consecutiveFailures = 0
            context.statistics.producerHealth(true)
        }
        let outstanding = inFlight.count + waitingForRoom.count + retries.count
        let ledgerHealthy = context.audit.isHealthy
        let shouldPause = circuitOpenUntil != nil || outstanding >= settings.maxInFlight || !waitingForRoom.isEmpty || !ledgerHealthy
        let canResume = circuitOpenUntil == nil && outstanding < settings.maxInFlight / 2 && waitingForRoom.isEmpty && ledgerHealthy
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
