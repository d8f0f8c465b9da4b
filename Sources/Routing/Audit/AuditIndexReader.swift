import Foundation
import Kafka
import Ledger
import Logging
import Policy

/// Reads the audit topic into the ledger from where the ledger's index stopped (the start of
/// the topic for a new or deleted file). Outside any consumer group: every instance needs every
/// entry. `read_committed`, so entries of an aborted lane transaction never enter the index.
///
/// Confinement: one thread at a time uses a reader (the indexer's poll thread, or a replay
/// job's thread); its waits are bounded.
public final class AuditIndexReader {
    public let topic: String
    private let partitions: [Int32]
    private let consumer: Consumer
    private let ledger: Ledger
    private let logger: Logger
    /// Per partition, the next offset to read, as applied to the ledger.
    public private(set) var positions: [Int32: Int64]
    /// Records that were not audit entries (skipped, counted, logged).
    public private(set) var skipped = 0
    private var decoder = AuditEntryDecoder()

    public init(topic: String, partitions: Int, cluster: KafkaConfiguration, ledger: Ledger, logger: Logger) throws {
        var configuration = ConsumerConfiguration(client: cluster, groupID: "plantrouter-audit-index-unused")
        configuration.reportPartitionEOF = true
        configuration.isolationLevel = .readCommitted
        configuration.autoOffsetReset = .earliest
        consumer = try Consumer(configuration: configuration, logger: logger)
        self.topic = topic
        self.partitions = Array(0..<Int32(clamping: partitions))
        self.ledger = ledger
        self.logger = logger
        positions = try ledger.auditIndexPositions(topic: topic)
        try rewind()
    }

    /// Most entries one poll reads, and so one ledger transaction applies.
    static let maxBatch = 2_000

    /// Reads what one poll returns and applies it in one ledger transaction; returns how many
    /// entries it applied. With a `gatheringFor` window, once a poll brings entries it goes on
    /// polling for that long (or up to `maxBatch` entries) first: while lanes write the topic,
    /// the reader catches up every few milliseconds, and a transaction per poll made the commit,
    /// not the entries, most of the index's CPU (Benchmarks/NOTES.md).
    @discardableResult
    public func readOnce(timeout: Duration = .milliseconds(100), gatheringFor window: Duration = .zero) throws -> Int {
        var batch = try consumer.poll(maxRecords: Self.maxBatch, timeout: timeout)
        if window > .zero, !batch.records.isEmpty {
            let deadline = ContinuousClock.now + window
            // One batch refilled by each poll of the window, as a lane's (`Consumer.poll(into:)`).
            var more = ConsumerBatch()
            while batch.records.count < Self.maxBatch, ContinuousClock.now < deadline {
                // An error here surfaces at the next poll; what was gathered is applied first.
                guard (try? consumer.poll(into: &more, maxRecords: Self.maxBatch - batch.records.count, timeout: deadline - .now)) != nil
                else { break }
                batch.append(contentsOf: more)
            }
        }
        for error in batch.errors { logger.warning("reading \(topic): \(error)") }
        var entries: [Ledger.IndexedAuditEntry] = []
        entries.reserveCapacity(batch.records.count)
        var refused = 0
        for record in batch.records where record.topic == topic {
            var entry: AuditEntry?
            do {
                entry = try decoder.decode(record.value ?? [], maxBytes: InputLimits.maxAuditEntryBytes)
            } catch {
                refused += 1
                logger.warning("skipping \(topic)[\(record.partition)]@\(record.offset): \(error)")
            }
            entries.append(.init(partition: record.partition, offset: record.offset, entry: entry))
        }
        // A partition's end may lie past its last record (a transaction's commit marker): the
        // end-of-partition event carries that position.
        var ends: [Int32: Int64] = [:]
        for end in batch.partitionsAtEnd where end.topic == topic && end.offset > (positions[end.partition] ?? 0) {
            ends[end.partition] = max(ends[end.partition] ?? 0, end.offset)
        }
        guard !entries.isEmpty || !ends.isEmpty else { return 0 }
        do {
            try ledger.applyAudit(entries, positions: ends, topic: topic)
        } catch {
            // The consumer has moved past this batch: back to where the index stopped, or the
            // entries would be missing from it for good once a later batch moves it on.
            try rewind()
            throw error
        }
        skipped += refused
        for indexed in entries { positions[indexed.partition] = max(positions[indexed.partition] ?? 0, indexed.offset + 1) }
        for (partition, end) in ends { positions[partition] = max(positions[partition] ?? 0, end) }
        return entries.count
    }

    /// Reads from `positions`, where the ledger's index stopped.
    private func rewind() throws(KafkaError) {
        try consumer.assign(partitions.map {
            TopicPartitionOffset(topic: topic, partition: $0, offset: positions[$0] ?? TopicPartitionOffset.beginning)
        })
    }

    /// The committed end (last stable offset) of each partition, asked of the cluster in one
    /// request (a `latest` offset lookup answers with the last stable offset under read_committed).
    public func ends(timeout: Duration = .seconds(5)) throws -> [Int32: Int64] {
        let latest = try consumer.offsetsForTimes(
            partitions.map { TopicPartitionOffset(topic: topic, partition: $0, offset: TopicPartitionOffset.end) }, timeout: timeout)
        var ends: [Int32: Int64] = [:]
        for end in latest where end.offset >= 0 { ends[end.partition] = end.offset }
        return ends
    }

    /// Entries on the topic that the index has not read yet, by `ends`.
    public func lag(behind ends: [Int32: Int64]) -> Int64 {
        ends.reduce(0) { total, end in total + max(0, end.value - (positions[end.key] ?? 0)) }
    }

    /// Reads until the index holds every entry committed when it was called; false when
    /// `shouldStop` said so first. Errors (an unreachable cluster) are retried until `timeout`,
    /// then it throws. Replays call it before they look idempotency keys up, so a key any
    /// instance produced before then is found.
    ///
    /// `untilIdle` reads on past the ends until a poll brings nothing new (at most 100 ms more
    /// when the index is current): a broker that reports ends short, as tansu does (DESIGN.md),
    /// still yields every entry written before the call.
    public func catchUp(timeout: Duration, untilIdle: Bool = false, shouldStop: () -> Bool = { false }) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        var targets: [Int32: Int64]?
        var lastError: (any Error)?
        var reachedEnds = false
        while true {
            if shouldStop() { return false }
            if !reachedEnds, let targets, lag(behind: targets) == 0 {
                guard untilIdle else { return true }
                reachedEnds = true
            }
            guard ContinuousClock.now < deadline else {
                throw AuditIndexBehind(topic: topic, missing: targets.map { lag(behind: $0) }, timeout: timeout, lastError: lastError.map { "\($0)" })
            }
            do {
                if targets == nil { targets = try ends(timeout: .seconds(1)) }
                let read = try readOnce()
                if reachedEnds, read == 0 { return true }
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    public func close() {
        try? consumer.close()
    }
}

/// The index could not read the audit topic to its end in time: a replay does not guess.
public struct AuditIndexBehind: Error, CustomStringConvertible {
    public var topic: String
    /// Entries not read yet; nil when the topic's end could not even be asked.
    public var missing: Int64?
    public var timeout: Duration
    public var lastError: String?

    public var description: String {
        let behind = missing.map { "\($0) entries behind \(topic)" } ?? "unable to read where \(topic) ends"
        let cause = lastError.map { " (\($0))" } ?? ""
        return "the audit index is \(behind) after \(timeout)\(cause); a replay now could send again what another instance produced. Check that the cluster is reachable and no transaction is stuck open on \(topic), then retry"
    }
}
