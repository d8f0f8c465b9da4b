import Hummingbird
import Ledger

/// `GET /v1/trace/{id}`: the audit trail of an event id or a work order, in order.
struct TraceRoutes {
    let ledger: Ledger

    func register(on routes: AdminRoutes) {
        routes.viewer.get("trace/{id}") { request, context in
            try request.checkQuery(allowed: [])
            let id = try context.parameters.require("id")
            let trail = try await ledger.trail(for: id)
            guard !trail.isEmpty else {
                throw HTTPError(.notFound, message: "nothing recorded for '\(id)': no audited event has that id and no decision is correlated to that work order")
            }
            return JSONBody(trail)
        }
    }
}
