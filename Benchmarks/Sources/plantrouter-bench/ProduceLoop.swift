import ArgumentParser
import Edge
import Foundation
import Kafka
import Synchronization

/// The drain's baseline: the spooled records produced in a tight loop through the same
/// `Producer` and settings the forwarder uses (idempotent, unlimited delivery timeout, the
/// catalog's compression per topic), with the same in-flight window, but no spool reads or
/// deletes. What is left between the two is the spool's cost.
enum ProduceLoop {
    /// Events/s and process CPU µs per event.
    static func run(_ records: [SpoolEntry], configuration: ProducerConfiguration, window: Int) throws -> (Double, Double) {
        var configuration = configuration
        configuration.enableIdempotence = true
        configuration.deliveryTimeoutMs = 0
        configuration.maxQueuedMessages = max(configuration.maxQueuedMessages, window * 2)
        let delivered = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let producer = try Producer(configuration: configuration, logger: quietLogger) { report in
            if report.succeeded { delivered.add(1, ordering: .relaxed) } else { failed.add(1, ordering: .relaxed) }
        }
        let cpu0 = processCPU(), start = ContinuousClock.now
        for (index, entry) in records.enumerated() {
            // The forwarder's window: at most `window` records waiting for a report.
            while index - delivered.load(ordering: .relaxed) - failed.load(ordering: .relaxed) >= window { Thread.sleep(forTimeInterval: 0.0002) }
            try producer.produce(
                ProducerRecord(topic: entry.topic, key: entry.key, value: entry.value, headers: entry.headers, timestampMs: entry.arrivedMs),
                token: UInt64(index))
        }
        try producer.flush(timeout: .seconds(300))
        let wall = seconds(ContinuousClock.now - start), cpu = processCPU() - cpu0
        try producer.close()
        guard delivered.load(ordering: .relaxed) == records.count else {
            throw ValidationError("produce loop: \(delivered.load(ordering: .relaxed)) of \(records.count) delivered, \(failed.load(ordering: .relaxed)) failed")
        }
        let n = Double(max(1, records.count))
        return (n / wall, cpu / n * 1e6)
    }
}
