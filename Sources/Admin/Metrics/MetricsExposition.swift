import Foundation
import Kafka
import Prometheus
import Routing

/// What `/metrics` serves: the registry's metrics with a `# HELP` line for each family
/// (swift-metrics handlers carry no help text), each lane's latency percentiles over the last
/// 60 s, and the standard process metrics.
enum MetricsExposition {
    static func render(registry: PrometheusCollectorRegistry, lanes: [LaneStatistics]) -> [UInt8] {
        var text = withHelp(String(decoding: registry.emitToBuffer(), as: UTF8.self), help: MetricNames.help)
        text += latencyWindow(lanes.map(\.snapshot))
        text += ProcessMetrics.exposition()
        return Array(text.utf8)
    }

    /// Inserts `# HELP name text` before each `# TYPE name …` line that has none.
    static func withHelp(_ exposition: String, help: [String: String]) -> String {
        var out: [Substring] = []
        var previous: Substring = ""
        for line in exposition.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if let text = help[String(name)] { out.append("# HELP \(name) \(text)") }
            }
            out.append(line)
            previous = line
        }
        return out.joined(separator: "\n")
    }

    static func latencyWindow(_ lanes: [LaneStatistics.Snapshot]) -> String {
        let name = MetricNames.latencyWindow
        var lines = ["# HELP \(name) \(MetricNames.help[name] ?? "")", "# TYPE \(name) gauge"]
        for lane in lanes {
            if let p50 = lane.latencyP50Ms { lines.append("\(name){lane=\"\(lane.lane)\",quantile=\"0.5\"} \(p50 / 1000)") }
            if let p99 = lane.latencyP99Ms { lines.append("\(name){lane=\"\(lane.lane)\",quantile=\"0.99\"} \(p99 / 1000)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
