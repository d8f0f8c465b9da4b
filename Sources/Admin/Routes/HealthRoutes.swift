import Hummingbird
import Prometheus
import Routing

/// `/healthz` (the process serves), `/readyz` (every lane assigned and its producer
/// healthy) and `/metrics` (Prometheus text). No token needed: probes and scrapers call them.
struct HealthRoutes {
    let router: Routing.Router

    static let text: HTTPFields = [.contentType: "text/plain; charset=utf-8"]

    func register(on routes: Hummingbird.Router<AdminRequestContext>) {
        routes.get("/healthz") { _, _ in "ok\n" }
        routes.get("/readyz") { _, _ -> Response in
            let ready = router.isReady
            AdminMetrics.ready.record(ready ? 1 : 0)
            if ready { return Response(status: .ok, headers: Self.text, body: .init(byteBuffer: ByteBuffer(string: "ready\n"))) }
            let ledger = router.ledgerProblem.map { ["ledger: \($0)"] } ?? []
            let waiting = ledger + router.lanes.filter { !$0.isAssigned || !$0.statistics.counters.producerHealthy }.map { lane in
                "\(lane.name): \(lane.isAssigned ? "producer unhealthy" : "no partitions assigned yet")"
            }
            return Response(
                status: .serviceUnavailable, headers: Self.text,
                body: .init(byteBuffer: ByteBuffer(string: "not ready\n" + waiting.joined(separator: "\n") + "\n")))
        }
        routes.get("/metrics") { _, _ -> Response in
            AdminMetrics.ready.record(router.isReady ? 1 : 0)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsExposition.render(registry: AdminMetrics.registry, lanes: router.lanes.map(\.statistics)))))
        }
    }
}
