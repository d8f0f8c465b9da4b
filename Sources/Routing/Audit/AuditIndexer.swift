import Foundation
import Kafka
import Ledger
import Logging
import Metrics
import Synchronization

/// Keeps this instance's ledger an index of the whole cluster's audit topic: reads it on a
/// thread of its own from where the index stopped, so `trace` answers for every instance and
/// replays skip what any instance produced. Deleting the ledger file and restarting rebuilds
/// the index from the topic.
public final class AuditIndexer: Sendable {
    public let topic: String
    private let reader: Mutex<AuditIndexReader?>
    private let logger: Logger
    private let lagGauge = Gauge(label: MetricNames.auditIndexLag)
    private let skippedCounter = Counter(label: MetricNames.auditIndexSkipped)
    /// With an audit topic the indexer is what writes the ledger, so it reports the ledger's
    /// health (the `AuditWriter` does without one).
    private let ledgerHealthy = Gauge(label: MetricNames.ledgerHealthy)
    private let state = Mutex(IndexState())
    private let pollThread = Mutex<PollThreadBox?>(nil)

    private struct IndexState {
        var lag: Int64?
        var lastEnds = ContinuousClock.now - .seconds(60)
        var ends: [Int32: Int64] = [:]
        var lastError: String?
        /// Set while the ledger refuses the index's writes (the cluster may be fine).
        var ledgerFailure: String?
        var skipped = 0
    }

    /// How often the indexer asks the cluster for the topic's end, for its lag.
    static let lagInterval: Duration = .seconds(5)
    /// How long the indexer gathers entries into one ledger transaction once some arrive (see
    /// `AuditIndexReader.readOnce`): the index trails the topic by about this much more.
    static let gatherWindow: Duration = .milliseconds(200)

    public init(topic: String, partitions: Int, cluster: KafkaConfiguration, ledger: Ledger, logger: Logger) throws {
        self.topic = topic
        self.logger = logger
        reader = Mutex(try AuditIndexReader(topic: topic, partitions: partitions, cluster: cluster, ledger: ledger, logger: logger))
    }

    /// Starts reading on a dedicated thread.
    public func start() {
        let box = PollThreadBox(PollThread(name: "audit-index") { [self] in step() })
        pollThread.withLock { $0 = box }
    }

    /// How long a stopping router lets the index read what its lanes produced last.
    public static let stopCatchUpBudget: Duration = .seconds(5)

    /// Asks the background reader to stop after its current step, without waiting, so that
    /// step's wait overlaps other work; `stop` then joins it.
    public func stopReadingInBackground() {
        pollThread.withLock { $0 }?.thread.requestStop()
    }

    /// Stops reading. With `catchingUpWithin`, first indexes what is on the topic up to its end
    /// (bounded), so a router that drained its lanes leaves its own last decisions in the ledger.
    public func stop(catchingUpWithin timeout: Duration? = nil) {
        pollThread.withLock { $0 }?.thread.stop()
        reader.withLock { reader in
            if let timeout, let current = reader {
                // One look at the topic's end, so an unreachable cluster costs a second, not the budget.
                let deadline = ContinuousClock.now + timeout
                do {
                    let ends = try current.ends(timeout: .seconds(1))
                    while current.lag(behind: ends) > 0, ContinuousClock.now < deadline { try current.readOnce() }
                } catch {
                    logger.warning("audit index: not read to its end before stopping (\(error)); the rest is read at the next start")
                }
            }
            reader?.close()
            reader = nil
        }
    }

    /// Why the index cannot take entries, while the ledger refuses its writes; nil otherwise.
    public var problem: String? {
        state.withLock { $0.ledgerFailure }.map { "ledger writes failing: \($0)" }
    }

    /// Entries on the audit topic the index has not read, as of the last look at the topic's
    /// end (every 5 s); nil before the first look.
    public var lag: Int64? { state.withLock { $0.lag } }

    private func step() {
        reader.withLock { reader in
            guard let reader else { return }
            do {
                try reader.readOnce(gatheringFor: Self.gatherWindow)
                // Stamped before asking, so an unreachable cluster is asked every 5 s, not every step.
                let refresh = state.withLock { state in
                    guard ContinuousClock.now - state.lastEnds >= Self.lagInterval else { return false }
                    state.lastEnds = .now
                    return true
                }
                if refresh {
                    let ends = try reader.ends(timeout: .seconds(1))
                    state.withLock { $0.ends = ends }
                }
                let lag = reader.lag(behind: state.withLock { $0.ends })
                lagGauge.record(lag)
                let newlySkipped = state.withLock { state in
                    defer { state.skipped = reader.skipped }
                    state.lag = lag
                    if let error = state.lastError {
                        logger.notice("reading \(topic) into the audit index again after: \(error)")
                        state.lastError = nil
                    }
                    if state.ledgerFailure != nil {
                        state.ledgerFailure = nil
                        ledgerHealthy.record(1)
                    }
                    return reader.skipped - state.skipped
                }
                if newlySkipped > 0 { skippedCounter.increment(by: newlySkipped) }
            } catch {
                let first = state.withLock { state in
                    defer { state.lastError = "\(error)" }
                    if error is LedgerError {
                        state.ledgerFailure = "\(error)"
                        ledgerHealthy.record(0)
                    }
                    return state.lastError == nil
                }
                if first { logger.error("audit index: reading \(topic) failed, retrying: \(error)") }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
