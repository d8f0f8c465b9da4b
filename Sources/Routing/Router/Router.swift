import Foundation
import Kafka
import Ledger
import Logging
import Policy
import ServiceLifecycle

/// The running router: the correlation reader plus one lane per catalog lane
/// that has source topics. A `Service`: it runs until graceful shutdown
/// (SIGTERM/SIGINT through ServiceLifecycle), then drains, commits and closes.
public final class Router: Service, Sendable {
    public let lanes: [LaneRunner]
    public let correlation: CorrelationReader?
    /// Reads every instance's audit entries into this instance's ledger; nil without an audit topic.
    public let auditIndex: AuditIndexer?
    public let workOrders: SharedWorkOrders
    public let policy: PolicyHolder
    private let audit: AuditWriter
    private let logger: Logger

    public init(configuration: RouterConfiguration, policy: PolicyHolder, ledger: Ledger, logger: Logger) throws {
        let catalog = policy.current.catalog
        let workOrders = SharedWorkOrders()
        let audit = AuditWriter(ledger: ledger, logger: logger)
        self.workOrders = workOrders
        self.audit = audit
        self.policy = policy
        self.logger = logger
        if let topic = catalog.topics.first(where: { $0.role == .correlation }) {
            correlation = try CorrelationReader(
                topic: topic.name, partitions: topic.partitions, cluster: configuration.kafka,
                workOrders: workOrders, ledger: ledger, logger: logger)
        } else {
            correlation = nil
        }
        if let topic = catalog.auditTopic {
            auditIndex = try AuditIndexer(
                topic: topic.name, partitions: topic.partitions, cluster: configuration.kafka, ledger: ledger, logger: logger)
        } else {
            auditIndex = nil
            logger.warning("the catalog has no topic of role audit: this instance's trail and replay dedup cover only what it routed itself")
        }
        lanes = try catalog.lanes.compactMap { lane in
            let sources = catalog.topics.filter { $0.lane == lane.name && $0.role == .source }.map(\.name)
            guard !sources.isEmpty else { return nil }
            return try LaneRunner(
                lane: lane, sources: sources, settings: configuration.settings(for: lane.name), cluster: configuration.kafka,
                groupPrefix: configuration.groupPrefix, instanceID: configuration.instanceID, policy: policy,
                correlation: workOrders, audit: audit, logger: logger)
        }
    }

    /// Loads work orders, then starts every lane.
    public func start() async {
        if let correlation {
            correlation.start()
            if await correlation.waitUntilCaughtUp(timeout: .seconds(30)) {
                logger.info("work orders loaded from \(correlation.topic)")
            } else {
                logger.warning("\(correlation.topic) not read to its end within 30 s; starting lanes anyway, correlation fills in as orders arrive")
            }
        }
        auditIndex?.start()
        for lane in lanes { lane.start() }
        logger.info("router started \(lanes.count) lanes: \(lanes.map(\.name).joined(separator: ", "))")
    }

    /// Stops every lane in parallel (each drains and commits), then the reader and the audit
    /// writer, and logs what each lane finished while draining and how long it took. Each
    /// duration is measured on the thread that did the work, so a busy cooperative pool does
    /// not stretch what is reported.
    @discardableResult
    public func stop() async -> RouterStopDurations {
        let started = ContinuousClock.now
        let before = Dictionary(uniqueKeysWithValues: lanes.map { ($0.name, $0.statistics.counters) })
        // The index's background step (up to a second when the cluster is unreachable) ends
        // while the lanes drain; the catch-up below reads what they produced last.
        auditIndex?.stopReadingInBackground()
        var durations = RouterStopDurations()
        durations.lanes = await withTaskGroup(of: (String, Duration).self) { group in
            for lane in lanes {
                group.addTask {
                    let took = try? await BlockingThread.run(name: "stop-\(lane.name)") {
                        let laneStart = ContinuousClock.now
                        lane.stop()
                        return ContinuousClock.now - laneStart
                    }
                    return (lane.name, took ?? .zero)
                }
            }
            var took: [String: Duration] = [:]
            for await (name, duration) in group { took[name] = duration }
            return took
        }
        for lane in lanes {
            let after = lane.statistics.counters
            let earlier = before[lane.name] ?? after
            logger.notice("lane \(lane.name) drained in \(Self.seconds(durations.lanes[lane.name] ?? .zero)): \(after.produced - earlier.produced) outputs acknowledged, \(after.deadLettered - earlier.deadLettered) dead-lettered during the drain")
        }
        // Joining the reader threads and the ledger writer blocks: not on the pool.
        let (catchUp, unwritten) = (try? await BlockingThread.run(name: "stop-readers") { [correlation, auditIndex, audit] in
            correlation?.stop()
            var catchUp: Duration?
            if let auditIndex {
                // The lanes' last entries are on the topic: read them in, bounded.
                let catchUpStart = ContinuousClock.now
                auditIndex.stop(catchingUpWithin: AuditIndexer.stopCatchUpBudget)
                catchUp = ContinuousClock.now - catchUpStart
            }
            return (catchUp, audit.close())
        }) ?? (nil, audit.backlog)
        durations.auditIndexCatchUp = catchUp
        if unwritten > 0 {
            logger.error("router stopped with \(unwritten) audit records and produced outputs not written to the ledger (\(audit.problem ?? "ledger failing")); the outputs are in Kafka, the trail and replay dedup lack them")
        } else {
            logger.notice("router stopped in \(Self.seconds(ContinuousClock.now - started)) (\(lanes.count) lanes)")
        }
        return durations
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(seconds).\(String(format: "%01d", attoseconds / 100_000_000_000_000_000)) s"
    }

    /// Audit records and produced outputs not (yet) written to the ledger; after `stop()`, those
    /// that could not be written at all.
    public var unwrittenAuditRecords: Int { audit.backlog }

    /// Why the ledger cannot take the trail, if it cannot (writes failing or far behind). Without
    /// an audit topic this holds the lanes back; with one, routing goes on and the index catches
    /// up from the topic once the ledger takes writes again.
    public var ledgerProblem: String? { audit.problem ?? auditIndex?.problem }

    /// True when every lane has been assigned partitions and its producer is healthy
    /// (circuit closed, no fatal producer error), and, without an audit topic, the ledger takes
    /// writes.
    public var isReady: Bool {
        audit.isHealthy && lanes.allSatisfy { $0.isAssigned && $0.statistics.counters.producerHealthy }
    }

    public func run() async throws {
        await start()
        try? await gracefulShutdown()
        // Said at once, so whoever sent SIGTERM sees it was heard before the drain's summary.
        logger.notice("shutdown requested: draining \(lanes.count) lanes (in-flight outputs are finished and offsets committed)")
        await stop()
    }
}
