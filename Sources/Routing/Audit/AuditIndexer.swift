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
    private let state = Mutex(IndexState())
    private let pollThread = Mutex<PollThreadBox?>(nil)

    private struct IndexState {
        var lag: Int64?
        var lastEnds = ContinuousClock.now - .seconds(60)
        var ends: [Int32: Int64] = [:]
        var lastError: String?
        var skipped = 0
    }

    /// How often the indexer asks the cluster for the topic's end, for its lag.
    static let lagInterval: Duration = .seconds(5)

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

    public func stop() {
        pollThread.withLock { $0 }?.thread.stop()
        reader.withLock { reader in
            reader?.close()
            reader = nil
        }
    }

    /// Entries on the audit topic the index has not read, as of the last look at the topic's
    /// end (every 5 s); nil before the first look.
    public var lag: Int64? { state.withLock { $0.lag } }

    private func step() {
        reader.withLock { reader in
            guard let reader else { return }
            do {
                try reader.readOnce()
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
                    return reader.skipped - state.skipped
                }
                if newlySkipped > 0 { skippedCounter.increment(by: newlySkipped) }
            } catch {
                let first = state.withLock { state in
                    defer { state.lastError = "\(error)" }
                    return state.lastError == nil
                }
                if first { logger.error("audit index: reading \(topic) failed, retrying: \(error)") }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
