import Kafka
import Metrics
import Prometheus
import Routing

/// Prometheus as the process's swift-metrics backend. Bootstrap before the router is
/// created: metrics made earlier would go to the no-op backend.
public enum AdminMetrics {
    /// The registry `/metrics` renders; bootstraps the metrics system on first use
    /// (swift-metrics allows one bootstrap per process).
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    static let reloadSucceeded = Counter(label: MetricNames.policyReloads, dimensions: [("result", "success")])
    static let reloadFailed = Counter(label: MetricNames.policyReloads, dimensions: [("result", "failure")])
    static let ready = Gauge(label: MetricNames.ready)

    /// `plantrouter_build_info{version, librdkafka} 1`; `plantrouter run` calls it once.
    public static func recordBuildInfo(version: String) {
        _ = registry
        Gauge(label: MetricNames.buildInfo, dimensions: [("version", version), ("librdkafka", KafkaVersion.librdkafka)]).record(1)
    }
}
