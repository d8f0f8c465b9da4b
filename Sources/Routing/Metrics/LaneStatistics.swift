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
        /// End-to-end latency percentiles over the last 60 s (`SlidingLatency`); nil when
        /// nothing was produced in that window.
        public var latencyP50Ms: Double?
        public var latencyP99Ms: Double?
    }

    /// How far back `latencyP50Ms`/`latencyP99Ms` look.
    public static let latencyWindow = SlidingLatency.span

    public let lane: String
    private let state: Mutex<(snapshot: Snapshot, latency: SlidingLatency, producedCounters: [String: Counter])>
    private let consumedCounter, retryCounter, errorCounter: Counter
    // Made once: asking the metrics backend for a labelled counter on every event costs a lookup.
    private let outcomeCounters: [Counter]
    private let deadLetterCounters: [DeadLetterReason: Counter]
    private let transactionCounters: (committed: Counter, aborted: Counter)
    private let latencyTimer: Metrics.Timer
    private let lagGauge, pausedGauge: Gauge

    init(lane: String) {
        self.lane = lane
        let dimensions = [("lane", lane)]
        state = Mutex((Snapshot(lane: lane), SlidingLatency(), [:]))
        outcomeCounters = OutcomeKind.allCases.map {
            Counter(label: MetricNames.classified, dimensions: [("lane", lane), ("outcome", $0.label)])
        }
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

    /// Counters with latency percentiles over the last `latencyWindow`.
    public var snapshot: Snapshot { snapshot(at: .now) }

    func snapshot(at now: ContinuousClock.Instant) -> Snapshot {
        let (counters, sliding) = state.withLock { ($0.snapshot, $0.latency) }
        let latency = sliding.window(at: now)
        var snapshot = counters
        // Percentiles walk the whole histogram: computed on a copy, outside the lock the lane thread needs.
        if latency.totalCount > 0 {
            snapshot.latencyP50Ms = Double(latency.valueAtPercentile(50)) / 1000
            snapshot.latencyP99Ms = Double(latency.valueAtPercentile(99)) / 1000
        }
        return snapshot
    }

    /// Counters only: cheap enough to read in a tight progress loop.
    public var counters: Snapshot { state.withLock { $0.snapshot } }

    func consumed(_ count: Int) {
        consumedCounter.increment(by: count)
        state.withLock { $0.snapshot.consumed += count }
    }

    /// Applies what the lane thread counted since its last flush, under one lock.
    func add(_ tally: Tally) {
        guard !tally.isEmpty else { return }
        for kind in OutcomeKind.allCases where tally[kind] > 0 { outcomeCounters[kind.rawValue].increment(by: tally[kind]) }
        for (reason, count) in tally.deadLetters { deadLetterCounters[reason]?.increment(by: count) }
        for latency in tally.latenciesMicros { latencyTimer.recordMicroseconds(latency) }
        state.withLock { state in
            state.snapshot.workflow += tally[.workflow]
            state.snapshot.analytics += tally[.analytics]
            state.snapshot.dropped += tally[.drop]
            state.snapshot.deadLettered += tally.deadLetters.values.reduce(0, +)
            for (topic, count) in tally.produced {
                if state.producedCounters[topic] == nil {
                    state.producedCounters[topic] = Counter(label: MetricNames.produced, dimensions: [("lane", lane), ("topic", topic)])
                }
                state.producedCounters[topic]!.increment(by: count)
                state.snapshot.produced += count
                state.snapshot.producedByTopic[topic, default: 0] += count
            }
            let now = ContinuousClock.now
            state.latency.record(tally.latenciesMicros.lazy.map { UInt64(clamping: $0) }, at: now)
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

/// Counts one lane thread gathers between flushes, so the hot path takes the
/// statistics lock once per batch instead of once per event.
struct Tally {
    /// Events per outcome, counted per event: plain fields, so neither hashing nor an allocation.
    private var workflow = 0, analytics = 0, dropped = 0, deadLettered = 0
    var deadLetters: [DeadLetterReason: Int] = [:]
    var produced: [String: Int] = [:]
    var latenciesMicros: [Int64] = []

    var isEmpty: Bool { workflow + analytics + dropped + deadLettered == 0 && deadLetters.isEmpty && produced.isEmpty }

    subscript(_ kind: OutcomeKind) -> Int {
        switch kind {
        case .workflow: workflow
        case .analytics: analytics
        case .drop: dropped
        case .deadLetter: deadLettered
        }
    }

    mutating func classified(_ outcome: Outcome) {
        switch outcome {
        case .workflow: workflow += 1
        case .analytics: analytics += 1
        case .drop: dropped += 1
        case .deadLetter: deadLettered += 1
        }
    }

    mutating func deadLettered(reason: DeadLetterReason) { deadLetters[reason, default: 0] += 1 }

    /// An output acknowledged by the cluster, `latencyMicros` after its source record's timestamp.
    mutating func produced(topic: String, latencyMicros: Int64?) {
        produced[topic, default: 0] += 1
        if let latencyMicros, latencyMicros >= 0 { latenciesMicros.append(latencyMicros) }
    }

    /// Hands the counts to `statistics` and empties the tally for the next ones.
    mutating func flush(into statistics: LaneStatistics) {
        statistics.add(self)
        reset()
    }

    /// Empties the tally, keeping its buffers: a new tally would grow its latency array again on
    /// every flush, and each growth past 1 KiB made glibc consolidate its free lists (2.5% of a
    /// 300k drain's samples, Benchmarks/NOTES.md).
    private mutating func reset() {
        workflow = 0
        analytics = 0
        dropped = 0
        deadLettered = 0
        deadLetters.removeAll(keepingCapacity: true)
        produced.removeAll(keepingCapacity: true)
        latenciesMicros.removeAll(keepingCapacity: true)
    }
}

/// The outcomes the classified counter tells apart, with their metric labels.
enum OutcomeKind: Int, CaseIterable {
    case workflow, analytics, drop, deadLetter

    var label: String {
        switch self {
        case .workflow: "workflow"
        case .analytics: "analytics"
        case .drop: "drop"
        case .deadLetter: "dead_letter"
        }
    }
}
