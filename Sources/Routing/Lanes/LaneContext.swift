import Foundation
import Kafka
import Ledger
import Logging
import Policy

/// What both lane loops share: the lane's consumer, decisions, statistics and
/// audit, owned by the lane thread.
final class LaneContext {
    let lane: Lane
    let sources: [String]
    let settings: LaneSettings
    let consumer: Consumer
    let preparer: EventPreparer
    let statistics: LaneStatistics
    /// Where decisions and audited outputs go for the whole cluster; nil when the catalog has no
    /// audit topic (each instance's trail is then its own).
    let auditTopic: AuditTopic?
    /// Writes decisions and produced keys straight to this instance's ledger, only when there is
    /// no audit topic. With one, the topic is the trail and the `AuditIndexer` brings every
    /// instance's entries, this one's too, into the ledger: writing them here as well cost ~8% of
    /// the router's CPU and made routing wait for the local disk.
    private let localTrail: AuditWriter?
    let policy: PolicyHolder
    /// The stop request and its deadline, which every wait on the lane thread respects.
    let stop: LaneStop
    let logger: Logger
    /// Every poll refills this batch, so the records array is allocated once per lane, not once
    /// per poll (see `Consumer.poll(into:maxRecords:timeout:)`).
    private var batch = ConsumerBatch()

    init(
        lane: Lane, sources: [String], settings: LaneSettings, consumer: Consumer, preparer: EventPreparer,
        statistics: LaneStatistics, audit: AuditWriter, auditTopic: AuditTopic?, policy: PolicyHolder, stop: LaneStop, logger: Logger
    ) {
        self.lane = lane
        self.sources = sources
        self.settings = settings
        self.consumer = consumer
        self.preparer = preparer
        self.statistics = statistics
        self.auditTopic = auditTopic
        localTrail = auditTopic == nil ? audit : nil
        self.policy = policy
        self.stop = stop
        self.logger = logger
    }

    /// False while the local trail cannot be written (no audit topic, ledger refusing writes):
    /// lanes then consume nothing new rather than route without a trail.
    var trailWritable: Bool { localTrail?.isHealthy ?? true }

    /// True when lanes hand their decisions and confirmed outputs to `recordLocally` (no audit
    /// topic); otherwise they need not collect them at all.
    var writesLocalTrail: Bool { localTrail != nil }

    /// Decisions and confirmed outputs for the local trail; with an audit topic they are already
    /// on their way to it (see `localTrail`).
    func recordLocally(_ records: [AuditRecord], produced: [ProducedOutput] = []) {
        localTrail?.record(records)
        localTrail?.produced(produced)
    }

    /// Adopts a reloaded policy between batches.
    func followPolicyReloads() {
        let current = policy.current
        if current.version != preparer.policyVersion || current !== preparer.engine.policy {
            logger.info("lane \(lane.name) switches to policy \(current.version)")
            preparer.adopt(current)
        }
    }

    /// The records of one poll. The array shares the lane's batch buffer: it is reused by the
    /// next poll when the caller holds it no longer (a loop's step does not).
    func poll(timeout: Duration) -> [ConsumerRecord] {
        do {
            try consumer.poll(into: &batch, maxRecords: settings.maxBatch, timeout: timeout)
            for error in batch.errors { logger.warning("lane \(lane.name): \(error)") }
            if !batch.records.isEmpty { statistics.consumed(batch.records.count) }
            return batch.records
        } catch {
            statistics.failed("\(error)")
            logger.error("lane \(lane.name) poll failed: \(error)")
            Thread.sleep(forTimeInterval: 0.1)
            return []
        }
    }

    /// Topics this lane may produce to: every workflow and analytics topic, its dead-letter topic
    /// and the audit topic.
    var outputTopics: [String] {
        policy.current.catalog.topics.filter { $0.role == .workflow || $0.role == .analytics }.map(\.name) + [lane.deadLetterTopic]
            + (auditTopic.map { [$0.name] } ?? [])
    }

    /// Loads output topics' metadata before traffic, logging rather than failing:
    /// a topic missing now may exist by the time a rule targets it.
    func warmUp(_ producer: Producer) {
        do {
            try producer.warmUp(topics: outputTopics)
        } catch {
            logger.warning("lane \(lane.name) could not load output topic metadata: \(error)")
        }
    }

    /// Pauses or resumes fetching on every assigned partition; false (logged) when librdkafka refused.
    func pausePartitions(_ pause: Bool) -> Bool {
        do {
            let partitions = try consumer.assignment()
            if pause { try consumer.pause(partitions) } else { try consumer.resume(partitions) }
            refreshLag(paused: pause)
            return true
        } catch {
            logger.warning("lane \(lane.name) could not \(pause ? "pause" : "resume"): \(error)")
            return false
        }
    }

    func refreshLag(paused: Bool) {
        let lag = (try? consumer.lag()) ?? 0
        let assigned = (try? consumer.assignment().count) ?? 0
        statistics.update(lag: lag, paused: paused, assignedPartitions: assigned)
    }

    /// Leaves the group within what is left of the drain time (at least a second): librdkafka's
    /// close waits for the coordinator, which a broker outage can keep away for a session timeout.
    /// A close still running then is left to finish (or not) on its own thread; the lane's
    /// uncommitted records are read again by whoever gets the partitions.
    func closeConsumer() {
        let done = DispatchSemaphore(value: 0)
        let consumer = consumer
        let logger = logger
        let laneName = lane.name
        let thread = Thread {
            do { try consumer.close() } catch { logger.warning("lane \(laneName) closing consumer: \(error)") }
            done.signal()
        }
        thread.start()
        let wait = max(stop.remaining(atMost: .seconds(60)), .seconds(1))
        if done.wait(timeout: .now() + .nanoseconds(Int(clamping: wait.nanoseconds))) == .timedOut {
            logger.warning("lane \(laneName) did not leave its group within the drain timeout; stopping without waiting for the coordinator")
        }
    }

    /// Microseconds from the source record's timestamp to `endMicros` (since the epoch); nil
    /// when the timestamp is absent or so far off (a producer sets it) that the arithmetic
    /// would overflow. Negative results (a timestamp ahead of us) are left to the caller.
    static func latencyMicros(from timestampMs: Int64, to endMicros: Int64) -> Int64? {
        guard timestampMs > 0 else { return nil }
        let (startMicros, tooLarge) = timestampMs.multipliedReportingOverflow(by: 1000)
        let (latency, overflow) = endMicros.subtractingReportingOverflow(startMicros)
        return tooLarge || overflow ? nil : latency
    }
}

/// The per-thread work of one lane; implemented by the at-least-once and the
/// transactional loop. Called only from the lane's thread.
protocol LaneLoop: AnyObject {
    /// Runs once on the lane thread before the first step.
    func warmUp()
    /// Handles one round: deliveries, retries, one poll and its records.
    func step()
    /// Called inside `poll` on the lane thread, before the assignment changes.
    func rebalanced(_ event: RebalanceEvent)
    /// Finishes in-flight work within the drain timeout, commits, and closes clients.
    func shutdown()
}
