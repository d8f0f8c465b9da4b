import Foundation
import Kafka
import Synchronization

/// Reads topics from the beginning with `isolation.level=read_committed`, the way a
/// downstream team does, on a thread of its own, and keeps every record with the wall-clock
/// time it arrived. No consumer group: it assigns every partition itself.
final class OutputCollector: Sendable {
    struct Arrival: Sendable {
        var record: ConsumerRecord
        /// Milliseconds since the epoch when the poll returned it.
        var arrivedAtMs: Double
    }

    private let consumer: Consumer
    private let arrivals = Mutex<[Arrival]>([])
    private let stopRequested = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter topics: topic names with their partition counts.
    init(cluster: KafkaConfiguration, topics: [(name: String, partitions: Int)]) throws {
        var client = cluster
        client.properties["fetch.wait.max.ms"] = "10"
        var configuration = ConsumerConfiguration(client: client, groupID: "collector-\(UUID().uuidString)")
        configuration.isolationLevel = .readCommitted
        consumer = try Consumer(configuration: configuration, logger: testLogger)
        try consumer.assign(topics.flatMap { topic in
            (0..<Int32(topic.partitions)).map {
                TopicPartitionOffset(topic: topic.name, partition: $0, offset: TopicPartitionOffset.beginning)
            }
        })
        let thread = Thread { [self] in
            while !stopRequested.withLock({ $0 }) {
                guard let batch = try? consumer.poll(maxRecords: 1000, timeout: .milliseconds(20)) else {
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                guard !batch.records.isEmpty else { continue }
                let now = nowMs()
                arrivals.withLock { $0 += batch.records.map { Arrival(record: $0, arrivedAtMs: now) } }
            }
            try? consumer.close()
            finished.signal()
        }
        thread.name = "output-collector"
        thread.start()
    }

    convenience init(testbed: Testbed, topics: [String]) throws {
        try self.init(cluster: testbed.cluster.configuration, topics: topics.map { ($0, testbed.partitions(of: $0)) })
    }

    deinit { stop() }

    var all: [Arrival] { arrivals.withLock { $0 } }
    var records: [ConsumerRecord] { arrivals.withLock { $0.map(\.record) } }

    func records(in topic: String) -> [ConsumerRecord] {
        arrivals.withLock { $0.lazy.map(\.record).filter { $0.topic == topic } }
    }

    var count: Int { arrivals.withLock { $0.count } }

    /// Arrival times per `topic|source-event-id`, in arrival order.
    func arrivalTimesByOutput() -> [String: [Double]] {
        var times: [String: [Double]] = [:]
        for arrival in all {
            times["\(arrival.record.topic)|\(arrival.record.header("source-event-id") ?? "")", default: []].append(arrival.arrivedAtMs)
        }
        return times
    }

    /// Outputs that arrived more than once although their first copy arrived after `instant`
    /// (ms since the epoch). A router that replays a partition from where Kafka says it is
    /// committed can re-produce only what was produced before the hand-over, never later work.
    func duplicatesFirstSeen(after instant: Double) -> [String] {
        arrivalTimesByOutput().filter { $0.value.count > 1 && $0.value[0] > instant }.map(\.key)
    }

    /// Waits until `condition` holds on everything read so far.
    @discardableResult
    func wait(timeout: Duration, until condition: ([ConsumerRecord]) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(records) }
    }

    /// Waits until nothing new arrived for `quiet` (so late duplicates would have shown up).
    func waitForQuiet(_ quiet: Duration = .milliseconds(750), timeout: Duration = .seconds(15)) async {
        var last = count
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            let now = count
            if now != last {
                last = now
                stableSince = .now
            } else if ContinuousClock.now - stableSince >= quiet {
                return
            }
        }
    }

    func stop() {
        let first = stopRequested.withLock { stop in
            defer { stop = true }
            return !stop
        }
        if first { finished.wait() }
    }
}

/// Counts records per value of `header` (e.g. `source-event-id`).
func countBy(_ header: String, _ records: [ConsumerRecord]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for record in records { counts[record.header(header) ?? "<none>", default: 0] += 1 }
    return counts
}
