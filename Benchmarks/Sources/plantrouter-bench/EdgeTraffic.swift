import Edge
import Foundation
import PlantSimulation
import Policy

/// The simulated plant's events as the line gateways send them to the edge: structured-mode
/// CloudEvents (key in the `partitionkey` extension) in `cloudevents-batch+json` arrays,
/// built once before timing so the clients only send.
enum EdgeTraffic {
    static func batches(events: Int, batch: Int, seed: UInt64 = 7) -> [[UInt8]] {
        var configuration = PlantSimulator.Configuration()
        configuration.count = events
        configuration.seed = seed
        configuration.includeSlowdown = false
        let all = Array(PlantSimulator(configuration).events().prefix(events))
        return stride(from: 0, to: all.count, by: batch).map { start in
            let slice = all[start..<min(start + batch, all.count)]
            return Array(("[" + slice.map(\.structuredCloudEvent).joined(separator: ",") + "]").utf8)
        }
    }
}
