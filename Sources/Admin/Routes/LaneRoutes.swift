import Hummingbird
import Routing

/// `GET /v1/lanes`: each lane's status, lag, counts and last error.
struct LaneRoutes {
    struct LaneView: Codable, Sendable {
        /// running, paused (backpressure or open circuit), degraded (producer unhealthy) or joining.
        var status: String
        var lane: String
        var assignedPartitions: Int
        var lag: Int
        var consumed: Int
        var workflow: Int
        var analytics: Int
        var dropped: Int
        var deadLettered: Int
        var produced: Int
        var retries: Int
        var producerErrors: Int
        var producerHealthy: Bool
        var lastError: String?
        var latencyP50Ms: Double?
        var latencyP99Ms: Double?
    }

    let router: Routing.Router

    func register(on routes: AdminRoutes) {
        routes.viewer.get("lanes") { request, _ in
            try request.checkQuery(allowed: [])
            return JSONBody(router.lanes.map { lane in
                let s = lane.statistics.snapshot
                let status = !lane.isAssigned ? "joining" : !s.producerHealthy ? "degraded" : s.paused ? "paused" : "running"
                return LaneView(
                    status: status, lane: s.lane, assignedPartitions: s.assignedPartitions, lag: s.lag, consumed: s.consumed,
                    workflow: s.workflow, analytics: s.analytics, dropped: s.dropped, deadLettered: s.deadLettered,
                    produced: s.produced, retries: s.retries, producerErrors: s.producerErrors, producerHealthy: s.producerHealthy,
                    lastError: s.lastError, latencyP50Ms: s.latencyP50Ms, latencyP99Ms: s.latencyP99Ms)
            })
        }
    }
}
