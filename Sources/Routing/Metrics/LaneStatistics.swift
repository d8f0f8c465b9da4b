import Foundation
import Histogram
import Metrics
import Policy
import Synchronization

/// One lane's counters: exported through swift-metrics and kept locally for
/// `/v1/lanes`, the demo's progress line and its summary table. Written by
/// the lane thread, read from anywhere.
public final class LaneStatistics: Sendable {
    public struct Snapshot: Sendable {
        public var lane: String
        public var consumed = 0
        public var workflow = 0
        public var analytics = 0
        public var dropped = 0
        public var deadLettered = 0
        public var produced = 0
        public var retries = 0
        public var producerErrors = 0
        public var lag = 0
        public var paused = false
        public var assignedPartitions = 0
        public var lastError: String?
        /// False while the lane's circuit is open or its producer failed fatally (readiness reads it).
        public var producerHealthy = true
        public var producedByTopic: [String: Int] = [:]
        public var latencyP50Ms: Double?
        public var latencyP99Ms: Double?
    }

    public let lane: String
    private let state: Mutex<(snapshot: Snapshot, latency: Histogram<UInt64>, producedCounters: [String: Counter])>
    private let consumedCounter, retryCounter, errorCounter: Counter
    // Made once: asking the metrics backend for a labelled counter on every event costs a lookup.
    private let outcomeCounters: [String: Counter]
    private let deadLetterCounters: [DeadLetterReason: Counter]
    private let transactionCounters: (committed: Counter, aborted: Counter)
    private let latencyTimer: Metrics.Timer
    private let lagGauge, pausedGauge: Gauge

    init(lane: String) {
        self.lane = lane
        let dimensions = [("lane", lane)]
        state = Mutex((Snapshot(lane: lane), Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three), [:]))
        outcomeCounters = Dictionary(uniqueKeysWithValues: ["workflow", "analytics", "drop", "dead_letter"].map {
            ($0, Counter(label: MetricNames.classified, dimensions: [("lane", lane), ("outcome", $0)]))
        })
        deadLetterCounters = Dictionary(uniqueKeysWithValues: DeadLetterReason.allCases.map {
            ($0, Counter(label: MetricNames.deadLettered, dimensions: [("lane", lane), ("reason", $0.rawValue)]))
        })
        transactionCounters = (
            Counter(label: MetricNames.transactions, dimensions: [("lane", lane), ("result", "committed")]),
            Counter(label: MetricNames.transactions, dimensions: [("lane", lane), ("result", "aborted")])
        )
        consumedCounter = Counter(label: MetricNames.consumed, dimensions: dimensions)
        retryCounter = Counter(label: MetricNames.retries, dimensions: dimensions)
        errorCounter = Counter(label: MetricNames.producerErrors, dimensions: dimensions)
        latencyTimer = Metrics.Timer(label: MetricNames.endToEndLatency, dimensions: dimensions, preferredDisplayUnit: .seconds)
        lagGauge = Gauge(label: MetricNames.lag, dimensions: dimensions)
        pausedGauge = Gauge(label: MetricNames.paused, dimensions: dimensions)
    }

    public var snapshot: Snapshot {
        state.withLock { state in
            var snapshot = state.snapshot
            if state.latency.totalCount > 0 {
                snapshot.latencyP50Ms = Double(state.latency.valueAtPercentile(50)) / 1000
                snapshot.latencyP99Ms = Double(state.latency.valueAtPercentile(99)) / 1000
            }
            return snapshot
        }
    }

    func consumed(_ count: Int) {
        consumedCounter.increment(by: count)
        state.withLock { $0.snapshot.consumed += count }
    }

    func classified(_ outcome: Outcome) {
        let label: String
        switch outcome {
        case .workflow: label = "workflow"
        case .analytics: label = "analytics"
        case .drop: label = "drop"
        case .deadLetter: label = "dead_letter"
        }
        outcomeCounters[label]?.increment()
        state.withLock { state in
            switch outcome {
            case .workflow: state.snapshot.workflow += 1
            case .analytics: state.snapshot.analytics += 1
            case .drop: state.snapshot.dropped += 1
            case .deadLetter: break // counted when written, with its reason
            }
        }
    }

    func deadLettered(reason: DeadLetterReason) {
        deadLetterCounters[reason]?.increment()
        state.withLock { $0.snapshot.deadLettered += 1 }
    }

    /// An output acknowledged by the cluster, `latencyMicros` after its source record's timestamp.
    func produced(topic: String, latencyMicros: Int64?) {
        if let latencyMicros, latencyMicros >= 0 { latencyTimer.recordMicroseconds(latencyMicros) }
        state.withLock { state in
            if state.producedCounters[topic] == nil {
                state.producedCounters[topic] = Counter(label: MetricNames.produced, dimensions: [("lane", lane), ("topic", topic)])
            }
            state.producedCounters[topic]!.increment()
            state.snapshot.produced += 1
            state.snapshot.producedByTopic[topic, default: 0] += 1
            if let latencyMicros, latencyMicros >= 0 { _ = state.latency.record(UInt64(latencyMicros)) }
        }
    }

    func retried() {
        retryCounter.increment()
        state.withLock { $0.snapshot.retries += 1 }
    }

    func producerError(_ message: String) {
        errorCounter.increment()
        state.withLock {
            $0.snapshot.producerErrors += 1
            $0.snapshot.lastError = message
        }
    }

    func transaction(committed: Bool) {
        (committed ? transactionCounters.committed : transactionCounters.aborted).increment()
    }

    func update(lag: Int, paused: Bool, assignedPartitions: Int) {
        lagGauge.record(lag)
        pausedGauge.record(paused ? 1 : 0)
        state.withLock {
            $0.snapshot.lag = lag
            $0.snapshot.paused = paused
            $0.snapshot.assignedPartitions = assignedPartitions
        }
    }

    func producerHealth(_ healthy: Bool) {
        state.withLock { $0.snapshot.producerHealthy = healthy }
    }

    func failed(_ message: String) {
        state.withLock { $0.snapshot.lastError = message }
    }
}
