import Foundation
import Policy
import Routing

/// The routing tables both demos end with: what each lane consumed and decided, with its
/// latency, and how many events each target topic received.
enum RoutingSummary {
    static func print(router: Router, catalog: Catalog) {
        let lanes = router.lanes.map(\.statistics.snapshot)
        Swift.print("\nPer lane")
        let header = ["lane", "consumed", "workflow", "analytics", "dropped", "dead-lettered", "p50 ms", "p99 ms"]
        var rows = lanes.map { lane in
            [lane.lane, "\(lane.consumed)", "\(lane.workflow)", "\(lane.analytics)", "\(lane.dropped)", "\(lane.deadLettered)",
             lane.latencyP50Ms.map { String(format: "%.1f", $0) } ?? "-", lane.latencyP99Ms.map { String(format: "%.1f", $0) } ?? "-"]
        }
        rows.append(["total"] + (1...5).map { column in "\(rows.compactMap { Int($0[column]) }.reduce(0, +))" } + ["", ""])
        Swift.print(Table(header: header, rows: rows).rendered)

        Swift.print("\nPer target topic")
        var byTopic: [String: Int] = [:]
        for lane in lanes { byTopic.merge(lane.producedByTopic, uniquingKeysWith: +) }
        let targetRows = byTopic.sorted { $0.key < $1.key }.map { topic, count in
            [topic, catalog.topic(named: topic)?.role.rawValue ?? "", catalog.topic(named: topic)?.owner ?? "", "\(count)"]
        }
        Swift.print(Table(header: ["topic", "role", "owner", "events"], rows: targetRows).rendered)
    }
}
