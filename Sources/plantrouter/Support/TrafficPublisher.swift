import Foundation
import Kafka
import Policy
import Routing

/// Produces recorded or simulated plant events to a cluster, keeping keys and
/// headers; librdkafka stamps the produce time, so latency is measured from now.
struct TrafficPublisher {
    let producer: Producer

    /// Produces every event and waits for all acknowledgements; returns how many went to each topic.
    @discardableResult
    /// - Parameter rate: events per second, or nil for as fast as the cluster takes them.
    func publish(_ events: [RawEvent], rate: Int? = nil) throws -> [String: Int] {
        var perTopic: [String: Int] = [:]
        let start = ContinuousClock.now
        for (index, event) in events.enumerated() {
            if let rate, index % 100 == 0 {
                let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                if due > .now { Thread.sleep(forTimeInterval: Double((due - .now).components.attoseconds) / 1e18) }
            }
            try producer.produceWaitingForRoom(ProducerRecord(event))
            perTopic[event.topic, default: 0] += 1
        }
        try producer.flush(timeout: .seconds(60))
        return perTopic
    }
}
