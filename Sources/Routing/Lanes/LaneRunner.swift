import Foundation
import Kafka
import Logging
import Policy

/// One lane: its own consumer-group member, producer, dead-letter topic,
/// retry and circuit state and statistics, run on a thread of its own so a
/// flood or a failing target in one lane never delays another.
public final class LaneRunner: Sendable {
    public let name: String
    public let statistics: LaneStatistics
    private let stopSignal = LaneStop()
    private let drainTimeout: Duration
    private let joinedGroup = AtomicFlag()
    private let finished = DispatchSemaphore(value: 0)
    private let started = AtomicFlag()
    private let loop: ConfinedLoop

    /// Creates the lane's clients and subscribes to its source topics.
    /// `instanceID` makes the transactional id unique per instance and stable across restarts.
    init(
        lane: Lane, sources: [String], settings: LaneSettings, cluster: KafkaConfiguration, groupPrefix: String,
        instanceID: String, policy: PolicyHolder, correlation: any CorrelationLookup & Sendable, audit: AuditWriter, logger: Logger
    ) throws {
        name = lane.name
        statistics = LaneStatistics(lane: lane.name)
        drainTimeout = .milliseconds(settings.drainTimeoutMs)
        let loop = ConfinedLoop()
        self.loop = loop
        let joinedGroup = self.joinedGroup

        var consumerConfiguration = ConsumerConfiguration(client: cluster, groupID: "\(groupPrefix)-\(lane.name)")
        consumerConfiguration.isolationLevel = .readCommitted
        let consumer = try Consumer(configuration: consumerConfiguration, logger: logger) { event in
            if case .assigned = event { joinedGroup.set() }
            loop.value?.rebalanced(event)
        }
        var producerConfiguration = ProducerConfiguration(client: cluster)
        producerConfiguration.deliveryTimeoutMs = settings.deliveryTimeoutMs
        // A backstop under the lane's own in-flight budget (which it checks once per batch, so a
        // batch may overshoot it): twice the budget, never below a 4 MB dead letter's room.
        producerConfiguration.maxQueuedKilobytes = max(2 * settings.maxInFlightBytes, 16 << 20) / 1024
        // Dead letters carry the original body plus context headers: leave room above the 1 MB
        // bodies plants do send (the dead-letter topics allow it, see catalog.yaml). A user
        // setting in the cluster properties still wins.
        if producerConfiguration.client.properties["message.max.bytes"] == nil {
            producerConfiguration.client.properties["message.max.bytes"] = "4000000"
        }
        // Each topic's compression as the catalog names it (read at start: a reload keeps it).
        for topic in policy.current.catalog.topics where topic.compression.rawValue != producerConfiguration.compression {
            producerConfiguration.topicCompression[topic.name] = topic.compression.rawValue
        }
        let inbox = DeliveryInbox()
        let context = LaneContext(
            lane: lane, sources: sources, settings: settings, consumer: consumer,
            preparer: EventPreparer(lane: lane, policy: policy.current, correlation: correlation, deciderID: "\(instanceID)/\(lane.name)"),
            statistics: statistics, audit: audit, auditTopic: policy.current.catalog.auditTopic.map { AuditTopic(name: $0.name) },
            policy: policy, stop: stopSignal, logger: logger)
        if lane.transactional {
            let transactionalID = "plantrouter-\(lane.name)-\(instanceID)"
            loop.value = try TransactionalLoop(context: context, inbox: inbox) {
                try TransactionalProducer(
                    configuration: producerConfiguration, transactionalID: transactionalID, logger: logger, onDelivery: inbox.add)
            }
        } else {
            // Reads a record again for a dead letter written after the record was released:
            // no group membership (it assigns), and a small prefetch (it reads a few records).
            var readerConfiguration = consumerConfiguration
            readerConfiguration.groupID = "\(groupPrefix)-\(lane.name)-dead-letter-sources"
            readerConfiguration.prefetchKilobytes = 1024
            readerConfiguration.fetchMaxBytes = 1 << 20
            readerConfiguration.prefetchMessagesPerPartition = 1000
            // The lane thread serves its producer's delivery reports (see `AtLeastOnceLoop`).
            let producer = try Producer(
                configuration: producerConfiguration, logger: logger, deliveryReports: .producingThread, onDelivery: inbox.add)
            loop.value = AtLeastOnceLoop(
                context: context, producer: producer, inbox: inbox, sourceReader: SourceReader(configuration: readerConfiguration, logger: logger))
        }
        try consumer.subscribe(sources)
    }

    /// True once the lane has joined its consumer group and received an assignment.
    public var isAssigned: Bool { joinedGroup.isSet }

    public func start() {
        guard started.setOnce() else { return }
        let thread = Thread { [self] in
            ThreadName.setCurrent("lane-\(name)")
            loop.value?.warmUp()
            while !stopSignal.isRequested { loop.value?.step() }
            loop.value?.shutdown()
            loop.value = nil
            finished.signal()
        }
        thread.start()
    }

    /// Finishes in-flight work, commits, leaves the group and closes clients, all within the
    /// lane's drain timeout: what is not finished by then is left uncommitted and read again.
    public func stop() {
        guard started.isSet, stopSignal.request(drainTimeout: drainTimeout) else { return }
        finished.wait()
    }
}

/// The lane's loop, reachable from the consumer's rebalance callback.
///
/// Confinement: the loop is created before the lane thread starts and is
/// used only on that thread afterwards: `step`/`shutdown` run there, and
/// librdkafka delivers rebalance callbacks inside `poll`, which `step` calls
/// on that same thread. That is why the unchecked conformance is sound.
final class ConfinedLoop: @unchecked Sendable {
    var value: (any LaneLoop)?
}
