import Foundation
import Kafka
import Ledger
import Logging
import Policy
import Routing
import Synchronization

/// Runs one replay job on the calling thread, which must be a dedicated one (it polls,
/// waits for delivery reports and sleeps for the rate limit).
///
/// Exactly once per checkpoint: records are handled one partition chunk at a time; the
/// chunk's outputs are produced and acknowledged, then `Ledger.updateProgress` moves the
/// partition's next offset, adds the counts and records every output's idempotency key in
/// one SQLite transaction. Before producing, keys the ledger already has are skipped, so
/// neither a resumed job nor a replay of an event that had succeeded sends anything twice.
///
/// With an audit topic in the catalog, the ledger is first read up to the topic's end (and
/// again before each chunk), so keys any instance produced are skipped too; the chunk's
/// decisions and keys then go to the audit topic, for every other instance, before the checkpoint.
final class ReplayRunner {
    struct Hooks: Sendable {
        var onProgress: @Sendable (ReplayProgressReport) -> Void = { _ in }
        var onEvent: @Sendable (ReplayEventReport) -> Void = { _ in }
    }

    /// One record to produce and the ledger key that makes it idempotent.
    private struct Send {
        var record: ProducerRecord
        var key: String
    }

    private let job: ReplayJob
    private let spec: ReplayJobSpec
    private let lane: Lane
    private let targets: ReplayTargets
    private let policy: LoadedPolicy
    private let ledger: Ledger
    private let cluster: KafkaConfiguration
    private let control: ReplayControl
    private let hooks: Hooks
    private let batchSize: Int
    private let logger: Logger
    /// Reads the cluster's audit topic into the ledger; nil without an audit topic.
    private var auditIndex: AuditIndexReader?
    private let auditTopic: AuditTopic?
    /// False after a checkpoint: the next key lookup first reads the audit topic to its end.
    private var indexCaughtUp = false

    /// How long a replay waits for the ledger to index the audit topic to its end before it
    /// fails rather than risk sending what another instance produced.
    static let indexCatchUpTimeout: Duration = .seconds(60)

    init(
        job: ReplayJob, policy: LoadedPolicy, ledger: Ledger, cluster: KafkaConfiguration, control: ReplayControl,
        hooks: Hooks, batchSize: Int, logger: Logger
    ) throws {
        self.job = job
        spec = try ReplayJobSpec.decode(job.filters)
        guard let lane = policy.catalog.lane(named: spec.lane) else {
            throw ReplayError(.conflict, "job \(job.id) replays lane '\(spec.lane)', which the active policy's catalog no longer has")
        }
        self.lane = lane
        targets = ReplayTargets(lane: lane, catalog: policy.catalog)
        self.policy = policy
        self.ledger = ledger
        self.cluster = cluster
        self.control = control
        self.hooks = hooks
        self.batchSize = batchSize
        self.logger = logger
        auditTopic = policy.catalog.auditTopic.map { AuditTopic(name: $0.name) }
    }

    /// Runs to the end of the job's ranges, a cancel, or a stop request; returns the job as recorded.
    func run() throws -> ReplayJob {
        guard case .offsets(let planned) = job.source.range else {
            throw ReplayError(.conflict, "job \(job.id) has no resolved offsets; create jobs through ReplayJobs")
        }
        _ = try ledger.setState(jobID: job.id, to: .running)
        do {
            return try replay(planned)
        } catch {
            logger.error("replay job \(job.id) failed: \(error)")
            // A job asked to cancel ends cancelled even when its runner fails on the way out.
            let cancelling = (try? ledger.job(id: job.id))??.state == .cancelling
            return try ledger.setState(jobID: job.id, to: cancelling ? .cancelled : .failed, error: "\(error)")
        }
    }

    /// How often a running job checkpoints at least (and so how much a stop or a crash has
    /// to re-check): well within the second an operator waits after Ctrl-C or a cancel.
    static let checkpointInterval: Duration = .milliseconds(500)
    /// How often the progress hook hears from a running job at most.
    static let progressInterval: Duration = .milliseconds(200)

    /// What a chunk has done since its partition's last checkpoint.
    private struct Pending {
        var delta = ReplayCounts()
        var sends: [Send] = []
        var audits: [AuditRecord] = []
        var replayed: [ReplayedEvent] = []
    }

    private func replay(_ planned: [PartitionOffsets]) throws -> ReplayJob {
        let checkpoints = Dictionary(try ledger.progress(jobID: job.id).map { ($0.partition, $0.nextOffset) }) { $1 }
        let ranges = planned.map {
            PartitionRange(topic: job.source.topic, partition: $0.partition, start: checkpoints[$0.partition] ?? $0.from, end: $0.until ?? $0.from)
        }
        let total = planned.reduce(Int64(0)) { $0 + max(0, ($1.until ?? $1.from) - $1.from) }
        var position = Dictionary(uniqueKeysWithValues: ranges.map { ($0.partition, $0.start) })
        let origins = Dictionary(uniqueKeysWithValues: planned.map { ($0.partition, $0.from) })
        func read() -> Int64 { position.reduce(0) { $0 + ($1.value - (origins[$1.key] ?? $1.value)) } }
        let readAtStart = read()
        let started = ContinuousClock.now

        if let topic = policy.catalog.auditTopic {
            auditIndex = try AuditIndexReader(topic: topic.name, partitions: topic.partitions, cluster: cluster, ledger: ledger, logger: logger)
        }
        defer { auditIndex?.close() }
        let preparer = EventPreparer(lane: lane, policy: policy, correlation: try workOrders(), deciderID: "replay/\(job.id)")
        let deliveries = DeliveryCollector()
        var producer: Producer?
        if !job.dryRun {
            var configuration = ProducerConfiguration(client: cluster)
            // A consumer setting the readers use; librdkafka warns when a producer gets it.
            configuration.client.properties["fetch.wait.max.ms"] = nil
            // Dead letters and quarantined events keep bodies up to the 1 MB plants send, plus context.
            if configuration.client.properties["message.max.bytes"] == nil {
                configuration.client.properties["message.max.bytes"] = "4000000"
            }
            producer = try Producer(configuration: configuration, logger: logger) { report in
                deliveries.add(report)
            }
        }
        defer { try? producer?.close(timeout: .seconds(10)) }
        let reader = try TopicRangeReader(cluster: cluster, logger: logger)
        defer { reader.close() }

        var limiter = RateLimiter(perSecond: job.rateLimit)
        var latest = job
        var pending = Pending()
        var lastCheckpoint = ContinuousClock.now
        var lastProgress: ContinuousClock.Instant?
        // The trail a --correlation-id filter selects is the whole cluster's: read it in first.
        let caughtUp = try catchUpIndex(untilIdle: true)
        let trail = try spec.filter.trail(in: ledger)
        // A stop from this process (Ctrl-C, the admin API's cancel) or a cancel another process
        // recorded: seen at every checkpoint, and read from the ledger every 500 ms while the
        // runner waits (a low --rate, an idle partition), so it too takes effect within a second.
        var stateReadAt = ContinuousClock.now
        func stopping() -> Bool {
            if control.isStopRequested { return true }
            if ContinuousClock.now - stateReadAt >= Self.checkpointInterval {
                stateReadAt = .now
                if let current = try? ledger.job(id: job.id) { latest.state = current.state }
            }
            return latest.state == .cancelling || latest.state == .cancelled
        }
        func reportProgress(force: Bool) {
            let now = ContinuousClock.now
            guard force || lastProgress.map({ now - $0 >= Self.progressInterval }) ?? true else { return }
            lastProgress = now
            let elapsed = (now - started) / .seconds(1)
            let rate = elapsed > 0 ? Double(read() - readAtStart) / elapsed : 0
            hooks.onProgress(ReplayProgressReport(
                jobID: job.id, counts: latest.counts + pending.delta, read: read(), total: total, rate: rate,
                etaSeconds: rate > 0 ? Double(total - read()) / rate : nil))
        }
        /// Sends what is pending, then records it and the partition's next offset in one transaction.
        func checkpoint(_ range: PartitionRange, nextOffset: Int64) throws {
            var produced: [ProducedOutput] = []
            if let producer, !pending.sends.isEmpty {
                produced = try deliver(pending.sends, producer: producer, deliveries: deliveries)
            }
            if let producer, let auditTopic, !job.dryRun, !produced.isEmpty || !pending.audits.isEmpty {
                do {
                    try publish(Self.auditEntries(pending.audits, produced: produced), to: auditTopic, producer: producer, deliveries: deliveries)
                } catch {
                    // Delivered all the same: a resume here must skip them.
                    try ledger.recordProduced(produced)
                    throw error
                }
            }
            indexCaughtUp = false
            // A dry run decides nothing: its would-be decisions never enter the audit trail.
            if !job.dryRun, !pending.audits.isEmpty { try ledger.append(pending.audits) }
            latest = try ledger.updateProgress(
                jobID: job.id, topic: range.topic, partition: range.partition, nextOffset: nextOffset, counts: pending.delta,
                produced: produced, replayed: job.dryRun ? [] : pending.replayed)
            pending = Pending()
            position[range.partition] = nextOffset
            lastCheckpoint = .now
            stateReadAt = .now
            reportProgress(force: true)
        }

        // A stop during the first catch-up reads nothing (the job pauses or is cancelled below).
        func stoppingOrBehind() -> Bool { !caughtUp || stopping() }
        try reader.read(ranges, batchSize: batchSize, shouldStop: stoppingOrBehind) { range, records, nextOffset in
            // Every batch starts checkpointed: a stop here loses nothing.
            if !indexCaughtUp, !(try catchUpIndex()) { return false }
            for record in records {
                let inspected = InspectedRecord(record)
                // Quarantined events stay where they are: that is what stops the cycle.
                guard !inspected.isQuarantined, spec.filter.matches(inspected, trail: trail) else {
                    pending.delta.filtered += 1
                    position[range.partition] = record.offset + 1
                    continue
                }
                guard limiter.wait(unless: stopping) else {
                    try checkpoint(range, nextOffset: record.offset)
                    return false
                }
                pending.delta.selected += 1
                let outcome = try handle(record, inspected, preparer: preparer, pending: &pending)
                pending.delta.add(outcome)
                pending.replayed.append(ReplayedEvent(partition: record.partition, offset: record.offset, outcome: outcome))
                position[range.partition] = record.offset + 1
                if stopping() || ContinuousClock.now - lastCheckpoint >= Self.checkpointInterval || pending.sends.count >= batchSize {
                    try checkpoint(range, nextOffset: record.offset + 1)
                    if stopping() { return false }
                } else {
                    reportProgress(force: false)
                }
            }
            try checkpoint(range, nextOffset: nextOffset)
            return !stopping()
        }
        let current = try ledger.job(id: job.id) ?? latest
        switch current.state {
        case .cancelled: return current
        case .cancelling: return try ledger.setState(jobID: job.id, to: .cancelled)
        default: break
        }
        if control.isStopRequested { return try ledger.setState(jobID: job.id, to: .paused) }
        return try ledger.setState(jobID: job.id, to: current.counts.stillDeadLetters > 0 ? .completedWithDeadLetters : .completed)
    }

    // MARK: - One event

    /// Decides what to do with one selected event, queues its outputs in `pending` and says
    /// which outcome it counts as.
    private func handle(
        _ record: ConsumerRecord, _ inspected: InspectedRecord, preparer: EventPreparer, pending: inout Pending
    ) throws -> ReplayEventOutcome {
        let original = Self.original(of: record, inspected: inspected)
        let position = "\(original.topic)/\(original.partition)/\(original.offset)"
        var report = ReplayEventReport(
            topic: record.topic, partition: record.partition, offset: record.offset, eventID: inspected.eventID,
            eventType: inspected.eventType, classification: "", outcome: .sent, targets: [])

        if inspected.replayCount >= spec.maxReplays {
            report.classification = "quarantine"
            report.reason = "replayed \(inspected.replayCount) times (limit \(spec.maxReplays))"
            let send = Send(record: quarantined(record, inspected), key: "quarantine:\(position)")
            report.outcome = try enqueue([send], report: &report, sends: &pending.sends).isEmpty ? .skippedAlreadyProduced : .quarantined
            hooks.onEvent(report)
            return report.outcome
        }

        // A dead letter's `dlq-original-topic` (and any record's `dlq-*` headers) is written by
        // whoever can produce to the topic; only a source topic of this lane may be re-entered.
        if let refusal = targets.refusal(sourceTopic: original.topic) {
            return refuse(&report, refusal)
        }

        switch job.mode {
        case .redrive:
            report.classification = "redrive"
            let redriven = ProducerRecord(topic: original.topic, key: original.key, value: original.value, headers: original.headers)
            let fresh = try enqueue([Send(record: redriven, key: "redrive:\(position)#\(inspected.replayCount + 1)")], report: &report, sends: &pending.sends)
            report.outcome = fresh.isEmpty ? .skippedAlreadyProduced : .sent
        case .reroute:
            let prepared = preparer.prepare(original)
            report.classification = prepared.decision.outcome.label
            report.ruleID = prepared.decision.ruleID
            if case .deadLetter(let reason, let message) = prepared.decision.outcome { report.reason = "\(reason.rawValue): \(message)" }
            if case .drop(let why) = prepared.decision.outcome { report.reason = why }
            if let refusal = prepared.outputs.lazy.compactMap({ [targets] in targets.refusal(output: $0.record.topic) }).first {
                return refuse(&report, refusal)
            }
            let candidates = prepared.outputs.map { output in
                // A new dead letter of a replayed event is a new record, not the one it came from.
                Send(record: output.record, key: output.isDeadLetter ? "\(output.idempotencyKey)#replay-\(inspected.replayCount + 1)" : output.idempotencyKey)
            }
            let fresh = try enqueue(candidates, report: &report, sends: &pending.sends)
            if prepared.outputs.contains(where: \.isDeadLetter) {
                report.outcome = .reDeadLettered
            } else if fresh.isEmpty {
                report.outcome = .skippedAlreadyProduced
            } else {
                report.outcome = .sent
            }
            if !job.dryRun, !fresh.isEmpty, var audit = prepared.audit {
                let keys = Set(fresh.map(\.key))
                audit.outputs = audit.outputs.filter { keys.contains($0.idempotencyKey) }
                audit.reason = [audit.reason, "replay job \(job.id)"].compactMap { $0 }.joined(separator: "; ")
                pending.audits.append(audit)
            }
        }
        hooks.onEvent(report)
        return report.outcome
    }

    /// Skips an event whose replay would write outside the lane's catalog topics: counted as
    /// refused, reported with classification `refused` and the reason, and logged.
    private func refuse(_ report: inout ReplayEventReport, _ reason: String) -> ReplayEventOutcome {
        report.classification = ReplayTargets.refusedClassification
        report.reason = reason
        report.outcome = .refused
        report.targets = []
        logger.warning("replay job \(job.id) refused \(report.topic)/\(report.partition)/\(report.offset): \(reason)")
        hooks.onEvent(report)
        return .refused
    }

    /// Adds the candidates whose key neither the ledger nor this chunk has yet; returns them.
    private func enqueue(_ candidates: [Send], report: inout ReplayEventReport, sends: inout [Send]) throws -> [Send] {
        let known = try ledger.producedKeys(among: candidates.map(\.key)).union(sends.map(\.key))
        var fresh: [Send] = []
        for candidate in candidates {
            let already = known.contains(candidate.key)
            report.targets.append(.init(topic: candidate.record.topic, idempotencyKey: candidate.key, alreadyProduced: already))
            if !already { fresh.append(candidate) }
        }
        sends += fresh
        return fresh
    }

    /// Produces a chunk's records and waits for every acknowledgement. A failed delivery
    /// fails the job after recording what did land, so a resume skips those.
    private func deliver(_ sends: [Send], producer: Producer, deliveries: DeliveryCollector) throws -> [ProducedOutput] {
        deliveries.reset()
        for (index, send) in sends.enumerated() {
            try producer.produceWaitingForRoom(send.record, token: UInt64(index + 1))
        }
        try producer.flush(timeout: .seconds(60))
        let reports = deliveries.reports
        var produced: [ProducedOutput] = []
        var failure: KafkaError?
        for report in reports {
            let index = Int(report.token) - 1
            guard sends.indices.contains(index) else { continue }
            if let error = report.error {
                failure = failure ?? error
            } else {
                produced.append(ProducedOutput(
                    idempotencyKey: sends[index].key, topic: report.topic, partition: report.partition, offset: report.offset))
            }
        }
        if failure != nil || produced.count < sends.count {
            try ledger.recordProduced(produced)
            let reason = failure.map { "\($0)" } ?? "\(sends.count - produced.count) deliveries unreported after 60 s"
            throw ReplayError(.kafka, "\(sends.count - produced.count) of \(sends.count) replayed records were not delivered: \(reason); fix the cause, then `plantrouter replay resume \(job.id)` (delivered records are skipped)")
        }
        return produced
    }

    // MARK: - The cluster's trail

    /// Reads the audit topic into the ledger up to its end; false when this process asked the
    /// job to stop first (a cancel recorded by another process is seen after at most the timeout).
    /// The first catch-up also reads on until idle (see `AuditIndexReader.catchUp`); those before
    /// each batch stop at the ends, to keep a replay's pace.
    private func catchUpIndex(untilIdle: Bool = false) throws -> Bool {
        guard let auditIndex else { return true }
        do {
            guard try auditIndex.catchUp(
                timeout: Self.indexCatchUpTimeout, untilIdle: untilIdle, shouldStop: { [control] in control.isStopRequested })
            else { return false }
        } catch let behind as AuditIndexBehind {
            throw ReplayError(.kafka, "\(behind)")
        }
        indexCaughtUp = true
        return true
    }

    /// A chunk's decisions, each with its delivered outputs' positions and keys, then the keys
    /// no decision names (redrives, quarantines, re-dead-letters) in entries of up to 500.
    static func auditEntries(_ audits: [AuditRecord], produced: [ProducedOutput]) -> [AuditEntry] {
        var byKey = Dictionary(produced.map { ($0.idempotencyKey, $0) }) { first, _ in first }
        var entries: [AuditEntry] = []
        for var audit in audits {
            var delivered: [ProducedOutput] = []
            for index in audit.outputs.indices {
                guard let output = byKey.removeValue(forKey: audit.outputs[index].idempotencyKey) else { continue }
                audit.outputs[index].partition = output.partition
                audit.outputs[index].offset = output.offset
                delivered.append(output)
            }
            entries.append(AuditEntry(record: audit, produced: delivered))
        }
        let rest = produced.filter { byKey[$0.idempotencyKey] != nil }
        for start in stride(from: 0, to: rest.count, by: 500) {
            entries.append(AuditEntry(record: nil, produced: Array(rest[start..<min(start + 500, rest.count)])))
        }
        return entries
    }

    /// Produces `entries` and waits until each is acknowledged. On failure the job fails before
    /// its checkpoint with the chunk's outputs in the local ledger, so a resume here skips them;
    /// other instances do not learn of them from this job.
    private func publish(_ entries: [AuditEntry], to topic: AuditTopic, producer: Producer, deliveries: DeliveryCollector) throws {
        deliveries.reset()
        for (index, entry) in entries.enumerated() {
            try producer.produceWaitingForRoom(topic.record(entry), token: UInt64(index + 1))
        }
        try producer.flush(timeout: .seconds(60))
        let reports = deliveries.reports
        if let failed = reports.first(where: { $0.error != nil })?.error {
            throw ReplayError(.kafka, "writing the replay's audit entries to \(topic.name) failed: \(failed); fix the cause, then `plantrouter replay resume \(job.id)`")
        }
        if reports.count < entries.count {
            throw ReplayError(.kafka, "\(entries.count - reports.count) audit entries to \(topic.name) unreported after 60 s; `plantrouter replay resume \(job.id)` once the cluster is reachable")
        }
    }

    // MARK: - Records

    /// The event as its source topic had it: for a dead letter, its original position with
    /// the `dlq-*` context removed; in both cases the replay count incremented.
    static func original(of record: ConsumerRecord, inspected: InspectedRecord) -> ConsumerRecord {
        var headers = record.headers.filter { !$0.name.hasPrefix("dlq-") && $0.name != HeaderNames.replayCount }
        headers.append(KafkaHeader(name: HeaderNames.replayCount, string: String(inspected.replayCount + 1)))
        guard let context = inspected.deadLetter, let topic = context.originalTopic else {
            return ConsumerRecord(
                topic: record.topic, partition: record.partition, offset: record.offset, timestampMs: record.timestampMs,
                key: record.key, value: record.value, headers: headers)
        }
        let timestamp = record.headers[header: HeaderNames.DeadLetter.originalTimestamp]?.stringValue.flatMap(Int64.init)
        return ConsumerRecord(
            topic: topic, partition: context.originalPartition ?? record.partition, offset: context.originalOffset ?? record.offset,
            timestampMs: timestamp ?? record.timestampMs, key: record.key, value: record.value, headers: headers)
    }

    /// The record as a dead letter with reason `quarantine` in the lane's dead-letter topic:
    /// listed by `dlq list --reason quarantine`, never selected by a replay again.
    private func quarantined(_ record: ConsumerRecord, _ inspected: InspectedRecord) -> ProducerRecord {
        typealias Names = HeaderNames.DeadLetter
        var headers = record.headers.filter { $0.name != Names.reason && $0.name != Names.error }
        if inspected.deadLetter?.originalTopic == nil {
            headers += [
                KafkaHeader(name: Names.originalTopic, string: record.topic),
                KafkaHeader(name: Names.originalPartition, string: String(record.partition)),
                KafkaHeader(name: Names.originalOffset, string: String(record.offset)),
                KafkaHeader(name: Names.originalTimestamp, string: String(record.timestampMs)),
                KafkaHeader(name: Names.lane, string: lane.name),
            ]
        }
        let previous = inspected.deadLetter.map { " after \($0.reason): \($0.error ?? "")" } ?? ""
        headers += [
            KafkaHeader(name: Names.reason, string: InspectedRecord.quarantineReason),
            KafkaHeader(name: Names.error, string: String("replayed \(inspected.replayCount) times (limit \(spec.maxReplays)), quarantined by replay job \(job.id)\(previous)".prefix(2000))),
        ]
        // Like any dead letter: a bogus timestamp (negative, far ahead) must not make it unwritable.
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        return ProducerRecord(topic: lane.deadLetterTopic, key: record.key, value: record.value, headers: headers,
                              timestampMs: DeadLetter.keptTimestamp(record.timestampMs, nowMs: nowMs))
    }

    /// Active work orders from the ledger's correlation table, for rules that correlate.
    private func workOrders() throws -> WorkOrderTable {
        var table = WorkOrderTable()
        for row in try ledger.activeWorkOrders() {
            let raw = RawEvent(topic: "", key: Array(row.id.utf8), value: Array(row.payload.utf8), headers: [])
            if let order = try? WorkOrder.decode(raw) { table.upsert(order) }
        }
        return table
    }
}

extension ReplayCounts {
    /// Counts one selected event's outcome.
    mutating func add(_ outcome: ReplayEventOutcome) {
        switch outcome {
        case .sent: sent += 1
        case .skippedAlreadyProduced: skippedAlreadyProduced += 1
        case .reDeadLettered: reDeadLettered += 1
        case .quarantined: quarantined += 1
        case .refused: refused += 1
        }
    }

    static func + (a: ReplayCounts, b: ReplayCounts) -> ReplayCounts {
        ReplayCounts(
            selected: a.selected + b.selected, filtered: a.filtered + b.filtered, sent: a.sent + b.sent,
            skippedAlreadyProduced: a.skippedAlreadyProduced + b.skippedAlreadyProduced,
            reDeadLettered: a.reDeadLettered + b.reDeadLettered, quarantined: a.quarantined + b.quarantined,
            refused: a.refused + b.refused)
    }
}

/// Delivery reports of the chunk in flight, handed over from the producer's poll thread.
private final class DeliveryCollector: Sendable {
    private let state = Mutex<[DeliveryReport]>([])

    func add(_ report: DeliveryReport) { state.withLock { $0.append(report) } }
    func reset() { state.withLock { $0.removeAll() } }
    var reports: [DeliveryReport] { state.withLock { $0 } }
}
