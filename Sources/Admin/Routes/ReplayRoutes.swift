import Foundation
import Hummingbird
import Ledger
import Logging
import Policy
import Replay
import Synchronization

/// `/v1/replays`: create (operator), list, status, cancel (operator). A dry run runs to
/// the end within the request and answers with what would be sent where; other jobs
/// start in the background and answer 202 with the pending job. Jobs and events have the
/// schema of `replay --json` (`ReplayJobView`, `ReplayEventReport`; openapi.yaml).
struct ReplayRoutes {
    struct DryRunView: Codable, Sendable {
        var job: ReplayJobView
        /// At most `limit` events; `truncated` says whether there were more.
        var events: [ReplayEventReport]
        var truncated: Bool
    }

    static let dryRunEventLimit = 1000

    let replays: ReplayJobs
    let logger: Logger

    func register(on routes: AdminRoutes) {
        routes.viewer.get("replays") { request, _ in
            try request.checkQuery(allowed: ["limit"])
            let limit = try request.boundedInt("limit", in: InputLimits.listLimit, limitName: "InputLimits.listLimit", default: 50)
            return JSONBody(try await mapped {
                var views: [ReplayJobView] = []
                for job in try await replays.list(limit: limit) {
                    views.append(ReplayJobView(job, progress: try await replays.progress(jobID: job.id)))
                }
                return views
            })
        }
        routes.viewer.get("replays/{id}") { request, context in
            try request.checkQuery(allowed: [])
            let id = try context.parameters.require("id")
            return JSONBody(try await mapped { try await replays.view(id: id) })
        }
        routes.operator.post("replays") { request, context -> Response in
            try request.checkQuery(allowed: [])
            let body = try await request.decodeJSON(as: ReplayRequest.self, context: context)
            // The token's name from the admin tokens configuration: who asked, in the job's record.
            let who = "api:\(context.tokenName ?? "unknown")"
            let job = try await mapped { try await replays.create(body, requestedBy: who) }
            if job.dryRun {
                let events = EventCollector(limit: Self.dryRunEventLimit)
                let finished = try await mapped { try await replays.run(jobID: job.id, onEvent: { events.add($0) }) }
                let (collected, truncated) = events.result
                let view = ReplayJobView(finished, progress: try await replays.progress(jobID: finished.id))
                return try JSONBody(DryRunView(job: view, events: collected, truncated: truncated))
                    .response(from: request, context: context)
            }
            replays.start(jobID: job.id)
            return try JSONBody(ReplayJobView(job), status: .accepted)
                .response(from: request, context: context)
        }
        routes.operator.post("replays/{id}/cancel") { request, context in
            try request.checkQuery(allowed: [])
            let id = try context.parameters.require("id")
            // A running job answers `cancelling` until its runner has stopped, then `cancelled`.
            return JSONBody(try await mapped {
                let job = try await replays.cancel(jobID: id)
                return ReplayJobView(job, progress: try await replays.progress(jobID: id))
            })
        }
    }

    /// Replay errors as HTTP statuses: bad options 400, unknown job 404, wrong state 409,
    /// cluster trouble 502.
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ReplayError {
            switch error.kind {
            case .invalidRequest: throw HTTPError(.badRequest, message: error.message)
            case .notFound: throw HTTPError(.notFound, message: error.message)
            case .conflict: throw HTTPError(.conflict, message: error.message)
            case .kafka: throw HTTPError(.badGateway, message: error.message)
            }
        }
    }
}

/// Collects a dry run's event reports from the runner thread, up to a limit.
private final class EventCollector: Sendable {
    private let state = Mutex<(events: [ReplayEventReport], truncated: Bool)>(([], false))
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func add(_ event: ReplayEventReport) {
        state.withLock { state in
            if state.events.count < limit { state.events.append(event) } else { state.truncated = true }
        }
    }

    var result: ([ReplayEventReport], Bool) { state.withLock { ($0.events, $0.truncated) } }
}
