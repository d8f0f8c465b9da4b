import Foundation
import Kafka
import Ledger
import Logging
import Metrics
import Synchronization

/// Writes audit records and confirmed outputs to the ledger in batches on a
/// thread of its own, so SQLite never sits on a lane's hot path. Records are
/// written before the outputs that complete them, in the order handed in.
///
/// A failed write is never dropped: the batch stays queued, in order, and is tried again
/// with backoff until SQLite takes it (the disk frees, the lock is released). While writes
/// fail, or while the queue is longer than `maxBacklog`, `isHealthy` is false: lanes pause
/// their partitions and readiness answers 503, so the queue cannot grow without bound and an
/// idempotency key is never lost (a lost key would let a later replay send an output again).
public final class AuditWriter: Sendable {
    private struct Pending {
        var records: [AuditRecord] = []
        var produced: [ProducedOutput] = []
        var isEmpty: Bool { records.isEmpty && produced.isEmpty }
        var count: Int { records.count + produced.count }
    }

    private struct Health {
        /// The last write error while writes fail; nil while they succeed.
        var failure: String?
        var failingSince: Date?
        var lastLogged: ContinuousClock.Instant?
    }

    /// Queued records and outputs above which lanes pause even while writes succeed.
    public static let maxBacklog = 200_000
    /// How often queued records are written; also the first retry delay after a failed
    /// write, which doubles up to `maxRetryDelayMs`.
    static let flushIntervalMs = 200
    static let maxRetryDelayMs = 5_000

    private let ledger: Ledger
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let health = Mutex(Health())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    private let failures = Counter(label: MetricNames.ledgerWriteFailures)
    private let healthyGauge = Gauge(label: MetricNames.ledgerHealthy)
    private let backlogGauge = Gauge(label: MetricNames.ledgerBacklog)

    public init(ledger: Ledger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
        healthyGauge.record(1)
        let thread = Thread { [self] in
            ThreadName.setCurrent("audit-writer")
            var retryDelayMs = Self.flushIntervalMs
            while running.load(ordering: .acquiring) {
                let succeeded = flush()
                retryDelayMs = succeeded ? Self.flushIntervalMs : min(retryDelayMs * 2, Self.maxRetryDelayMs)
                _ = wakeUp.wait(timeout: .now() + .milliseconds(succeeded ? Self.flushIntervalMs : retryDelayMs))
            }
            _ = flush()
            finished.signal()
        }
        thread.start()
    }

    /// False while ledger writes fail or the queue is over `maxBacklog`.
    public var isHealthy: Bool {
        health.withLock { $0.failure == nil } && backlog <= Self.maxBacklog
    }

    /// Why the ledger is unhealthy, for readiness and `/v1/lanes`; nil when healthy.
    public var problem: String? {
        if let failure = health.withLock({ $0.failure }) { return "ledger writes failing: \(failure)" }
        let queued = backlog
        return queued > Self.maxBacklog ? "ledger writes behind: \(queued) records queued" : nil
    }

    /// Records and outputs waiting to be written.
    public var backlog: Int { pending.withLock { $0.count } }

    func record(_ records: [AuditRecord]) {
        guard !records.isEmpty else { return }
        pending.withLock { $0.records += records }
    }

    func produced(_ outputs: [ProducedOutput]) {
        guard !outputs.isEmpty else { return }
        pending.withLock { $0.produced += outputs }
    }

    /// Writes what is queued and stops the writer thread. Returns how many records and outputs
    /// could not be written (0 unless the ledger is still failing), so callers can say so.
    @discardableResult
    public func close() -> Int {
        if running.exchange(false, ordering: .acquiringAndReleasing) {
            wakeUp.signal()
            finished.wait()
        }
        return backlog
    }

    /// Writes one batch; on failure puts it back in front of what arrived meanwhile.
    private func flush() -> Bool {
        let batch = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        backlogGauge.record(batch.count)
        guard !batch.isEmpty else { return true }
        do {
            try ledger.record(batch.records, produced: batch.produced)
        } catch {
            pending.withLock { pending in
                pending.records = batch.records + pending.records
                pending.produced = batch.produced + pending.produced
            }
            failed(error, queued: backlog)
            return false
        }
        recovered()
        return true
    }

    private func failed(_ error: any Error, queued: Int) {
        failures.increment()
        healthyGauge.record(0)
        let now = ContinuousClock.now
        let shouldLog = health.withLock { health in
            let first = health.failure == nil
            health.failure = "\(error)"
            if first { health.failingSince = Date() }
            guard first || health.lastLogged.map({ now - $0 >= .seconds(30) }) ?? true else { return false }
            health.lastLogged = now
            return true
        }
        if shouldLog {
            logger.error("audit write failed; lanes pause until the ledger takes writes again (\(queued) records and outputs kept, retrying): \(error)")
        }
    }

    private func recovered() {
        let since = health.withLock { health -> Date? in
            defer { health = Health() }
            return health.failure == nil ? nil : health.failingSince
        }
        healthyGauge.record(1)
        if let since {
            logger.notice("ledger writes resumed after \(Int(Date().timeIntervalSince(since))) s; nothing was lost, lanes resume")
        }
    }
}
