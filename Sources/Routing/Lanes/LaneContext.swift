import Foundation
import Kafka
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
    let audit: AuditWriter
    let policy: PolicyHolder
    let logger: Logger

    init(
        lane: Lane, sources: [String], settings: LaneSettings, consumer: Consumer, preparer: EventPreparer,
        statistics: LaneStatistics, audit: AuditWriter, policy: PolicyHolder, logger: Logger
    ) {
        self.lane = lane
        self.sources = sources
        self.settings = settings
        self.consumer = consumer
        self.preparer = preparer
        self.statistics = statistics
        self.audit = audit
        self.policy = policy
        self.logger = logger
    }

    /// Adopts a reloaded policy between batches.
    func followPolicyReloads() {
        let current = policy.current
        if current.version != preparer.policyVersion || current !== preparer.engine.policy {
            logger.info("lane \(lane.name) switches to policy \(current.version)")
            preparer.adopt(current)
        }
    }

    func poll(timeout: Duration) -> [ConsumerRecord] {
        do {
            let batch = try consumer.poll(maxRecords: settings.maxBatch, timeout: timeout)
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

    /// Topics this lane may produce to: every workflow and analytics topic, and its dead-letter topic.
    var outputTopics: [String] {
        policy.current.catalog.topics.filter { $0.role == .workflow || $0.role == .analytics }.map(\.name) + [lane.deadLetterTopic]
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

    func refreshLag(paused: Bool) {
        let lag = (try? consumer.lag()) ?? 0
        let assigned = (try? consumer.assignment().count) ?? 0
        statistics.update(lag: lag, paused: paused, assignedPartitions: assigned)
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
