import Foundation
import Hummingbird
import Ledger
import Policy

/// `GET /v1/trace/{id}`: the audit trail of an event id or a work order, in order, a page at
/// a time (`?limit=&after=`), with the filters of `plantrouter trace`.
struct TraceRoutes {
    let ledger: Ledger

    /// Records per page when `limit` is not given.
    static let defaultLimit = 100

    struct Page: Encodable, Sendable {
        var id: String
        var records: [AuditRecord]
        /// Pass as `after` for the next page; absent on the last one.
        var next: String?
    }

    func register(on routes: AdminRoutes) {
        routes.viewer.get("trace/{id}") { request, context in
            try request.checkQuery(allowed: ["limit", "after", "since", "until", "type", "outcome"])
            let id = try context.parameters.require("id")
            let query = try Self.query(id: id, request)
            let page = try await ledger.trailPage(query)
            let filtered = query.since != nil || query.until != nil || query.type != nil || query.outcome != nil
            if page.records.isEmpty, query.after == nil, !filtered {
                throw HTTPError(.notFound, message: "nothing recorded for '\(id)': no audited event has that id and no decision is correlated to that work order")
            }
            return JSONBody(Page(id: id, records: page.records, next: page.next?.description))
        }
    }

    /// The trail query the parameters ask for; a bad one is a 400 that says how to fix it.
    static func query(id: String, _ request: Request) throws -> TrailQuery {
        let parameters = request.uri.queryParameters
        func time(_ name: String) throws -> Date? {
            guard let text = parameters.get(name) else { return nil }
            // The ISO 8601 parse takes fractional seconds too (TracePagingTests).
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw HTTPError(.badRequest, message: "\(name) '\(text)' is not an RFC 3339 time; write e.g. 2026-03-01T08:00:00Z")
            }
            return date
        }
        let limit = try request.boundedInt("limit", in: InputLimits.listLimit, limitName: "InputLimits.listLimit", default: defaultLimit)
        var outcome: AuditOutcome?
        if let text = parameters.get("outcome") {
            guard let value = AuditOutcome(rawValue: text) else {
                throw HTTPError(.badRequest, message: "outcome '\(text)' is not one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            outcome = value
        }
        var after: TrailCursor?
        if let text = parameters.get("after") {
            guard let cursor = TrailCursor(text) else {
                throw HTTPError(.badRequest, message: "after '\(text.prefix(64))' is not a cursor of this trail; pass the 'next' value of the previous page")
            }
            after = cursor
        }
        let since = try time("since"), until = try time("until")
        if let since, let until, since >= until {
            throw HTTPError(.badRequest, message: "since must be before until")
        }
        return TrailQuery(id: id, since: since, until: until, type: parameters.get("type"), outcome: outcome, after: after, limit: limit)
    }
}
