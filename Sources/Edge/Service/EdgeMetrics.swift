/// `/metrics` of `plantrouter edge`, Prometheus text format. The values come straight from the
/// spool (depth, bytes, oldest age, and the forwarded/shed/rejected counters it persists, so
/// they survive a restart and never go backwards) and from the forwarder (link state).
public enum EdgeMetrics {
    public static let help: [(name: String, type: String, help: String)] = [
        ("plantrouter_edge_spool_events", "gauge", "Events in the edge spool waiting for the enterprise cluster, per lane."),
        ("plantrouter_edge_spool_bytes", "gauge", "Bytes of spooled events (as counted against the quota), per lane."),
        ("plantrouter_edge_spool_oldest_age_seconds", "gauge", "Age of the oldest unsent event in the spool (0 when empty)."),
        ("plantrouter_edge_class_bytes", "gauge", "Spooled bytes per priority class."),
        ("plantrouter_edge_quota_bytes", "gauge", "Disk quota per priority class."),
        ("plantrouter_edge_forwarded_total", "counter", "Events the enterprise cluster acknowledged, per lane."),
        ("plantrouter_edge_shed_total", "counter", "Telemetry events shed (oldest first) because their class was full, per lane."),
        ("plantrouter_edge_rejected_total", "counter", "Events the edge policy rejected and spooled for the lane's dead-letter topic, per lane."),
        ("plantrouter_edge_downsampled_total", "counter", "Telemetry events dropped by downsampling (one per key and interval is forwarded), per lane."),
        ("plantrouter_edge_link_up", "gauge", "1 while the enterprise cluster acknowledges deliveries, 0 while records wait over 5 s or after a failure."),
        ("plantrouter_edge_in_flight", "gauge", "Records handed to the producer and not yet acknowledged."),
    ]

    public static func render(_ stats: SpoolStatistics, link: Forwarder.Link, nowMs: Int64) -> String {
        var lines: [String] = []
        func family(_ name: String, _ samples: [(labels: String, value: Double)]) {
            guard let entry = help.first(where: { $0.name == name }) else { return }
            lines.append("# HELP \(name) \(entry.help)")
            lines.append("# TYPE \(name) \(entry.type)")
            for sample in samples { lines.append("\(name)\(sample.labels) \(format(sample.value))") }
        }
        func perLane(_ value: (SpoolStatistics.Lane) -> Int64) -> [(labels: String, value: Double)] {
            stats.lanes.map { ("{lane=\"\(escape($0.lane))\"}", Double(value($0))) }
        }
        family("plantrouter_edge_spool_events", perLane(\.events))
        family("plantrouter_edge_spool_bytes", perLane(\.bytes))
        let age = stats.oldestArrivedMs.map { max(0, Double(nowMs - $0) / 1000) } ?? 0
        family("plantrouter_edge_spool_oldest_age_seconds", [("", age)])
        family("plantrouter_edge_class_bytes", stats.classBytes.sorted { $0.key < $1.key }.map { ("{class=\"\($0.key)\"}", Double($0.value)) })
        family("plantrouter_edge_quota_bytes", stats.quota.sorted { $0.key < $1.key }.map { ("{class=\"\($0.key)\"}", Double($0.value)) })
        family("plantrouter_edge_forwarded_total", perLane(\.forwarded))
        family("plantrouter_edge_shed_total", perLane(\.shed))
        family("plantrouter_edge_rejected_total", perLane(\.rejected))
        family("plantrouter_edge_downsampled_total", perLane(\.downsampled))
        family("plantrouter_edge_link_up", [("", link.up ? 1 : 0)])
        family("plantrouter_edge_in_flight", [("", Double(link.inFlight))])
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
