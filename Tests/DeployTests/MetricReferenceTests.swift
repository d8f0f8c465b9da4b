import Foundation
import Routing
import Testing

/// Deploy/prometheus/*.yaml and Deploy/grafana/*.json may only reference metric
/// names the router really exports (`MetricNames.all`). Histogram series
/// (`_bucket`, `_sum`, `_count`) count as their base name. Recording rules use
/// the `plantrouter:` prefix (a colon), so they are not mistaken for exports.
@Suite struct MetricReferenceTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: String, extensions: Set<String>) throws -> [URL] {
        let url = packageRoot.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { extensions.contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
    }

    /// Every `plantrouter_*` identifier in `text`, histogram suffixes stripped.
    static func referencedMetrics(in text: String) -> Set<String> {
        var names = Set<String>()
        let pattern = /plantrouter_[a-zA-Z0-9_]+/
        for match in text.matches(of: pattern) {
            var name = String(match.output)
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                name.removeLast(suffix.count)
                break
            }
            names.insert(name)
        }
        return names
    }

    static func check(_ files: [URL]) throws -> (found: Set<String>, unknown: [String]) {
        let exported = Set(MetricNames.all)
        var found = Set<String>()
        var unknown: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let names = referencedMetrics(in: text)
            found.formUnion(names)
            for name in names.sorted() where !exported.contains(name) {
                unknown.append("\(file.lastPathComponent): \(name)")
            }
        }
        return (found, unknown)
    }

    @Test func alertRulesReferenceOnlyExportedMetrics() throws {
        let files = try Self.files(in: "Deploy/prometheus", extensions: ["yaml", "yml"])
        #expect(!files.isEmpty, "no rule files under Deploy/prometheus")
        let (found, unknown) = try Self.check(files)
        #expect(unknown.isEmpty, "metrics not in MetricNames.all: \(unknown)")
        // The rules cover the signals issue 7 asks for.
        for required in [MetricNames.deadLettered, MetricNames.lag, MetricNames.endToEndLatency,
                         MetricNames.policyReloads, MetricNames.producerErrors, MetricNames.ready] {
            #expect(found.contains(required), "no alert rule uses \(required)")
        }
    }

    @Test func dashboardsReferenceOnlyExportedMetrics() throws {
        let files = try Self.files(in: "Deploy/grafana", extensions: ["json"])
        #expect(!files.isEmpty, "no dashboards under Deploy/grafana")
        let (found, unknown) = try Self.check(files)
        #expect(unknown.isEmpty, "metrics not in MetricNames.all: \(unknown)")
        #expect(found.count >= MetricNames.all.count / 2, "dashboard shows only \(found.sorted())")
    }

    @Test func extractionStripsHistogramSuffixes() {
        let text = #"rate(plantrouter_end_to_end_latency_seconds_bucket{lane="x"}[5m]) / plantrouter:objective"#
        #expect(Self.referencedMetrics(in: text) == [MetricNames.endToEndLatency])
        #expect(Self.referencedMetrics(in: "plantrouter_not_a_metric_total") == ["plantrouter_not_a_metric_total"])
    }
}
