import Foundation
import Kafka
import Ledger
import Logging
import Policy
import Synchronization

/// Creates, runs, lists and cancels replay jobs; shared by `plantrouter replay` and the
/// admin API. Jobs run on threads of their own; every job and its progress is in the ledger.
public final class ReplayJobs: Sendable {
    public let ledger: Ledger
    public let cluster: KafkaConfiguration
    public let policy: PolicyHolder
    /// Records per checkpoint: a smaller chunk means less to re-check after a crash.
    public let batchSize: Int
    private let logger: Logger
    private let running = Mutex<[String: ReplayControl]>([:])

    public init(ledger: Ledger, cluster: KafkaConfiguration, policy: PolicyHolder, batchSize: Int = 200, logger: Logger) {
        self.ledger = ledger
        self.cluster = cluster
        self.policy = policy
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Validates `request`, fixes each partition's offset range as it stands now (records
    /// written later, the replay's own dead letters among them, are never read) and records
    /// a pending job.
    public func create(_ request: ReplayRequest, requestedBy: String) async throws -> ReplayJob {
        try request.validate()
        let catalog = policy.current.catalog
        let kind: ReplaySource.Kind
        let topic: String
        let lane: String
        if let dlqLane = request.fromDLQ {
            guard let found = catalog.lane(named: dlqLane) else {
                throw ReplayError.unknownLane(dlqLane, known: catalog.lanes.map(\.name))
            }
            (kind, topic, lane) = (.deadLetter, found.deadLetterTopic, found.name)
        } else {
            let name = request.topic!
            guard let found = catalog.topic(named: name), found.role == .source else {
                let sources = catalog.topics.filter { $0.role == .source }.map(\.name)
                throw ReplayError(.invalidRequest, "'\(name)' is not a source topic in the catalog; replay one of: \(sources.joined(separator: ", ")), or a lane's dead letters with fromDLQ")
            }
            (kind, topic, lane) = (.sourceTopic, found.name, found.lane)
        }
        let cluster = cluster
        let logger = logger
        let ranges = try await BlockingThread.run(name: "replay-plan") {
            let reader = try TopicRangeReader(cluster: cluster, logger: logger)
            defer { reader.close() }
            var ranges = try reader.ranges(topic: topic, fromOffset: request.fromOffset, toOffset: request.toOffset, since: request.since)
            if let partition = request.partition {
                let known = ranges.map(\.partition)
                guard known.contains(partition) else {
                    throw ReplayError(.invalidRequest, "partition \(partition) does not exist in \(topic) (partitions \(known.map(String.init).joined(separator: ", ")))")
                }
                ranges = ranges.filter { $0.partition == partition }
            }
            if let eventID = request.eventId {
                ranges = [try Self.latest(eventID: eventID, in: ranges, topic: topic, reader: reader)]
            }
            return ranges
        }
        let spec = ReplayJobSpec(lane: lane, filter: request.filter, maxReplays: request.maxReplays ?? ReplayRequest.defaultMaxReplays)
        let source = ReplaySource(
            kind: kind, topic: topic,
            range: .offsets(ranges.map { PartitionOffsets(partition: $0.partition, from: $0.start, until: $0.end) }))
        let job = try await ledger.createJob(ReplayJobRequest(
            requestedBy: requestedBy, mode: request.mode ?? .reroute, source: source, filters: try spec.encoded(),
            dryRun: request.dryRun ?? false, rateLimit: request.rate))
        logger.info("replay job \(job.id) created by \(requestedBy): \(job.mode.rawValue) \(topic)\(job.dryRun ? " (dry run)" : "")")
        return job
    }

    /// Runs (or resumes) a job until it completes, is cancelled, or `control` stops it.
    /// Returns the job as recorded at the end.
    @discardableResult
    public func run(
        jobID: String, control: ReplayControl = ReplayControl(),
        onProgress: @escaping @Sendable (ReplayProgressReport) -> Void = { _ in },
        onEvent: @escaping @Sendable (ReplayEventReport) -> Void = { _ in }
    ) async throws -> ReplayJob {
        let job = try await runnable(jobID)
        let claimed = running.withLock { running -> Bool in
            guard running[jobID] == nil else { return false }
            running[jobID] = control
            return true
        }
        guard claimed else { throw ReplayError(.conflict, "replay job \(jobID) is already running in this process") }
        defer { _ = running.withLock { $0.removeValue(forKey: jobID) } }
        let (policy, ledger, cluster, batchSize, logger) = (policy.current, ledger, cluster, batchSize, logger)
        let hooks = ReplayRunner.Hooks(onProgress: onProgress, onEvent: onEvent)
        return try await BlockingThread.run(name: "replay-\(jobID.prefix(8))") {
            try ReplayRunner(
                job: job, policy: policy, ledger: ledger, cluster: cluster, control: control, hooks: hooks,
                batchSize: batchSize, logger: logger
            ).run()
        }
    }

    /// Starts `run` in the background (the admin API); failures are recorded on the job.
    public func start(jobID: String) {
        let logger = logger
        Task.detached { [self] in
            do {
                try await run(jobID: jobID)
            } catch {
                logger.error("replay job \(jobID) did not run: \(error)")
            }
        }
    }

    /// Cancels a job. A running one answers `cancelling` and stops within a second (this
    /// process's runner at once, another process's at its next checkpoint); it is
    /// `cancelled` once it has stopped.
    @discardableResult
    public func cancel(jobID: String) async throws -> ReplayJob {
        let job = try await Self.cancel(jobID: jobID, in: ledger)
        running.withLock { $0[jobID]?.stop() }
        return job
    }

    /// Cancels a job in `ledger`; a runner in another process sees it at its next checkpoint.
    @discardableResult
    public static func cancel(jobID: String, in ledger: Ledger) async throws -> ReplayJob {
        guard let job = try await ledger.job(id: jobID) else { throw ReplayError.jobNotFound(jobID) }
        guard !job.state.isFinal else {
            throw ReplayError(.conflict, "replay job \(jobID) is already \(job.state.rawValue); only pending, running, paused, cancelling or failed jobs can be cancelled")
        }
        if job.state == .failed {
            // The ledger lets a failed job only run again; nothing runs it, so it ends here.
            _ = try await ledger.setState(jobID: jobID, to: .running)
            return try await ledger.setState(jobID: jobID, to: .cancelled)
        }
        return try await ledger.cancel(jobID: jobID)
    }

    /// The job as `--json` and the admin API show it, with its per-partition progress.
    public func view(id: String) async throws -> ReplayJobView {
        ReplayJobView(try await job(id: id), progress: try await ledger.progress(jobID: id))
    }

    public func job(id: String) async throws -> ReplayJob {
        guard let job = try await ledger.job(id: id) else { throw ReplayError.jobNotFound(id) }
        return job
    }

    public func progress(jobID: String) async throws -> [ReplayProgress] {
        try await ledger.progress(jobID: jobID)
    }

    public func list(limit: Int = 50) async throws -> [ReplayJob] {
        try await ledger.jobs(limit: limit)
    }

    /// The one record of `ranges` whose `ce_id` is `eventID`: the latest, when the event was
    /// dead-lettered more than once.
    private static func latest(eventID: String, in ranges: [PartitionRange], topic: String, reader: TopicRangeReader) throws -> PartitionRange {
        var found: InspectedRecord?
        try reader.read(ranges, batchSize: 500) { _, records, _ in
            for record in records {
                let inspected = InspectedRecord(record)
                guard inspected.eventID == eventID else { continue }
                if let best = found, (best.timestamp, best.offset) > (inspected.timestamp, inspected.offset) { continue }
                found = inspected
            }
            return true
        }
        guard let found else {
            throw ReplayError(.notFound, "no record with event id '\(eventID.prefix(200))' in \(topic)\(ranges.count == 1 ? " partition \(ranges[0].partition)" : ""); `plantrouter dlq list` shows the event ids")
        }
        return PartitionRange(topic: topic, partition: found.partition, start: found.offset, end: found.offset + 1)
    }

    private func runnable(_ jobID: String) async throws -> ReplayJob {
        let job = try await job(id: jobID)
        guard job.state.allowedNextStates.contains(.running) else {
            throw ReplayError(.conflict, "replay job \(jobID) is \(job.state.rawValue) and cannot run again; create a new job")
        }
        return job
    }
}
